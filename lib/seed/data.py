"""Fixed demo vocabulary for `lib.seed`: people, places, catalogue templates and the texts people write."""

DEMO_PASSWORD = "demo1234"
HORIZON_DAYS = 730

# username, role, display name
USERS = (
    ("admin", "admin", "System Administrator"),
    ("lead", "ops_lead", "王芳"),
    ("ops", "ops", "李娜"),
    ("ops2", "ops", "Kevin Zhao"),
    ("sales", "sales", "张伟"),
    ("sales2", "sales", "Emily Chen"),
    ("sales3", "sales", "刘洋"),
    ("sales4", "sales", "Michael Sun"),
    ("sales5", "sales", "陈静"),
    ("sales6", "sales", "Sarah Lin"),
    ("sales7", "sales", "杨磊"),
    ("sales8", "sales", "David Wu"),
    ("finance", "finance", "赵敏"),
    ("warehouse", "warehouse", "孙强"),
    ("analyst", "analyst", "Linda Huang"),
)
REPS = ("sales", "sales2", "sales3", "sales4", "sales5", "sales6", "sales7", "sales8")
REP_WEIGHTS = (0.17, 0.16, 0.14, 0.12, 0.12, 0.11, 0.10, 0.08)
ERROR_PRONE_REP = "sales4"          # voids for "order information wrong" cluster on one rep
OPS_USERS = ("ops", "ops2", "lead")
OPS_WEIGHTS = (0.45, 0.40, 0.15)

WAREHOUSES = (("SH", "Shanghai DC", "上海仓"), ("GZ", "Guangzhou DC", "广州仓"), ("BJ", "Beijing DC", "北京仓"))
SHORTAGE_WAREHOUSE = "GZ"           # out-of-stock voids cluster here
DAMAGE_WAREHOUSE = "BJ"             # goods damaged in transit come from here

# city (en), city (zh), home warehouse, telephone area code, weight
CITIES = (
    ("Shanghai", "上海", "SH", "021", 14), ("Hangzhou", "杭州", "SH", "0571", 7),
    ("Nanjing", "南京", "SH", "025", 6), ("Suzhou", "苏州", "SH", "0512", 6),
    ("Ningbo", "宁波", "SH", "0574", 4), ("Hefei", "合肥", "SH", "0551", 3),
    ("Guangzhou", "广州", "GZ", "020", 10), ("Shenzhen", "深圳", "GZ", "0755", 11),
    ("Dongguan", "东莞", "GZ", "0769", 4), ("Xiamen", "厦门", "GZ", "0592", 3),
    ("Changsha", "长沙", "GZ", "0731", 3), ("Chengdu", "成都", "GZ", "028", 5),
    ("Beijing", "北京", "BJ", "010", 13), ("Tianjin", "天津", "BJ", "022", 5),
    ("Jinan", "济南", "BJ", "0531", 3), ("Qingdao", "青岛", "BJ", "0532", 3),
    ("Shenyang", "沈阳", "BJ", "024", 3), ("Xi'an", "西安", "BJ", "029", 3),
)

ZH_BRANDS_CO = ("华信", "宏达", "金桥", "恒通", "新世纪", "东方", "鑫源", "博远", "嘉禾", "盛达", "永泰", "天成",
                "瑞丰", "中和", "联创", "汇通", "佳美", "百盛", "润发", "德信", "安泰", "海纳", "云帆", "星河",
                "锦程", "凯瑞", "泰和", "富源", "昌盛", "利丰", "明远", "启航")
ZH_TRADES = ("贸易", "科技", "电子", "商贸", "实业", "百货", "文化用品", "家居", "食品", "体育用品",
             "网络科技", "供应链管理", "酒店管理", "餐饮管理")
ZH_SUFFIXES = ("有限公司", "有限公司", "有限公司", "股份有限公司", "商行")
EN_ADJ = ("Northwind", "Blue Harbor", "Summit", "Golden Gate", "Silverline", "Redwood", "Pacific", "Evergreen",
          "Bright Star", "Oriental", "Pearl River", "Great Wall", "Jade", "Crescent", "Lotus", "Harbour View",
          "Sunrise", "Everbright", "Kingsway", "Metro", "Orchid", "Phoenix", "Riverside", "Horizon")
EN_NOUNS = ("Trading", "Logistics", "Retail", "Office Supplies", "Electronics", "Home Goods", "Hospitality",
            "Sports", "Foods", "Outfitters", "Distribution", "Imports")
EN_SUFFIXES = ("Co., Ltd.", "Ltd.", "Inc.", "Group", "Limited")
ZH_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
               "何", "高", "林", "罗", "郑", "梁", "谢", "宋")
ZH_GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
            "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "晓东", "海燕", "志强", "雪梅", "文博", "子涵")
EN_FIRST = ("James", "Mary", "John", "Linda", "Robert", "Susan", "Michael", "Karen", "David", "Lisa", "Daniel",
            "Nancy", "Kevin", "Grace", "Jason", "Amy", "Eric", "Helen", "Peter", "Cindy", "Tony", "Vivian")
EN_LAST = ("Wang", "Li", "Zhang", "Liu", "Chen", "Smith", "Johnson", "Lee", "Brown", "Wong", "Ho", "Tan",
           "Miller", "Garcia", "Davis", "Lam", "Cheung", "Taylor", "Ng", "Clark")

# code, sku prefix, name_en, name_zh, share of sales, products, brands (en, zh), items
# item: (name_en, name_zh, lowest price, highest price, variants)
CATEGORIES = (
    ("electronics", "ELC", "Electronics", "电子产品", 0.13, 42,
     (("Voltek", "Lumio", "Novatron", "Arcwave"), ("星辰", "极光", "华芯")), (
        ("Laptop", "笔记本电脑", 3500, 12000, ("14\" i5", "15.6\" i7", "Pro 16\"", "Air 13\"")),
        ("Tablet", "平板电脑", 1500, 6000, ("64GB", "128GB", "256GB")),
        ("Bluetooth Headphones", "蓝牙耳机", 150, 1500, ("Lite", "Pro", "ANC")),
        ("Smartwatch", "智能手表", 600, 3500, ("S", "GT", "Sport")),
        ("27\" Monitor", "27英寸显示器", 900, 4500, ("QHD", "4K", "144Hz")),
        ("Portable SSD", "移动固态硬盘", 300, 1500, ("500GB", "1TB", "2TB")),
        ("Bluetooth Speaker", "蓝牙音箱", 150, 1200, ("Mini", "Max")),
        ("Digital Camera", "数码相机", 2500, 15000, ("Z5", "R8", "Kit")),
        ("Power Bank", "充电宝", 80, 300, ("10000mAh", "20000mAh")),
        ("Wi-Fi Router", "无线路由器", 150, 900, ("AX3000", "AX6000")))),
    ("phones", "PHN", "Phones", "手机", 0.11, 36, (("Aurora", "Nimbus", "Kestrel"), ("华彩", "青松", "飞鸿")), (
        ("Smartphone", "智能手机", 1200, 9000, ("128GB", "256GB", "512GB", "1TB")),
        ("Foldable Phone", "折叠屏手机", 6999, 13999, ("256GB", "512GB")),
        ("Rugged Phone", "三防手机", 1500, 4000, ("128GB", "256GB")),
        ("Phone Case", "手机壳", 29, 129, ("Clear", "Leather", "Silicone")),
        ("Fast Charger", "快充充电器", 59, 299, ("33W", "65W", "120W")),
        ("Screen Protector", "钢化膜", 19, 79, ("2-pack", "Privacy")))),
    ("home_appliances", "HAP", "Home appliances", "家用电器", 0.09, 36,
     (("Coolwave", "Homely", "Zenith"), ("美佳", "海宁", "格瑞")), (
        ("Refrigerator", "冰箱", 2500, 12000, ("300L", "450L", "600L")),
        ("Washing Machine", "洗衣机", 1800, 7000, ("8kg", "10kg")),
        ("Air Conditioner", "空调", 2500, 9000, ("1.5HP", "2HP", "3HP")),
        ("Microwave Oven", "微波炉", 400, 1500, ("20L", "25L")),
        ("Rice Cooker", "电饭煲", 200, 1200, ("3L", "5L")),
        ("Air Purifier", "空气净化器", 800, 4000, ("M", "L")),
        ("Vacuum Cleaner", "吸尘器", 500, 3500, ("Cordless", "Robot")),
        ("Water Heater", "热水器", 900, 4000, ("60L", "80L")),
        ("Electric Kettle", "电热水壶", 80, 300, ("1.5L", "1.7L")))),
    ("furniture", "FUR", "Furniture", "家具", 0.06, 28, (("Oakline", "Nordhem"), ("木居", "宜家园")), (
        ("Office Chair", "办公椅", 400, 3000, ("Mesh", "Ergonomic", "Executive")),
        ("Standing Desk", "升降办公桌", 600, 4000, ("120cm", "140cm", "160cm")),
        ("Sofa", "沙发", 2500, 12000, ("3-seat", "L-shape")),
        ("Bookshelf", "书架", 300, 1500, ("5-tier", "Wide")),
        ("Bed Frame", "床架", 1500, 6000, ("1.5m", "1.8m")),
        ("Dining Table", "餐桌", 1200, 6000, ("4-seat", "6-seat")),
        ("Filing Cabinet", "文件柜", 500, 2000, ("3-drawer", "4-drawer")))),
    ("apparel", "APP", "Apparel", "服装", 0.11, 36, (("Urbanfit", "Maple & Co"), ("衣坊", "素色")), (
        ("T-shirt", "T恤", 49, 199, ("Black M", "White L", "Navy XL")),
        ("Jeans", "牛仔裤", 129, 599, ("Slim 30", "Regular 32")),
        ("Down Jacket", "羽绒服", 399, 1999, ("Black L", "Khaki M")),
        ("Oxford Shirt", "牛津衬衫", 99, 499, ("Blue M", "White L")),
        ("Hoodie", "卫衣", 129, 399, ("Grey M", "Black XL")),
        ("Dress", "连衣裙", 159, 899, ("S", "M")),
        ("Work Uniform", "工作服", 89, 299, ("Set M", "Set L")))),
    ("shoes", "SHO", "Shoes", "鞋靴", 0.07, 28, (("Stride", "Peakrun"), ("步云", "飞跃")), (
        ("Running Shoes", "跑步鞋", 299, 1299, ("40", "42", "44")),
        ("Leather Shoes", "皮鞋", 399, 1599, ("41", "43")),
        ("Sneakers", "板鞋", 199, 899, ("38", "42")),
        ("Boots", "靴子", 399, 1799, ("39", "42")),
        ("Safety Shoes", "劳保鞋", 129, 399, ("41", "43")),
        ("Slippers", "拖鞋", 29, 99, ("M", "L")))),
    ("beauty", "BTY", "Beauty", "美妆", 0.08, 30, (("Belle Rose", "Aqua Pure"), ("雪肌", "花颜")), (
        ("Face Cream", "面霜", 99, 1299, ("50ml",)),
        ("Lipstick", "口红", 89, 399, ("#01", "#08", "#12")),
        ("Sunscreen SPF50", "防晒霜 SPF50", 69, 299, ("50ml", "100ml")),
        ("Serum", "精华液", 199, 1599, ("30ml", "50ml")),
        ("Shampoo", "洗发水", 39, 159, ("400ml", "750ml")),
        ("Perfume", "香水", 299, 1499, ("50ml", "100ml")),
        ("Facial Mask", "面膜", 59, 299, ("10 pcs", "20 pcs")))),
    ("food", "FOD", "Food", "食品", 0.10, 34, (("Harvest", "Green Valley"), ("五谷坊", "山里红")), (
        ("Green Tea", "绿茶", 39, 599, ("250g", "500g gift box")),
        ("Coffee Beans", "咖啡豆", 59, 299, ("500g", "1kg")),
        ("Mixed Nuts", "每日坚果", 49, 199, ("30 bags",)),
        ("Mooncake Gift Box", "月饼礼盒", 99, 599, ("8 pcs", "12 pcs")),
        ("Instant Noodles", "方便面", 49, 99, ("24-pack",)),
        ("Olive Oil", "橄榄油", 69, 299, ("1L", "5L")),
        ("Jasmine Rice", "香米", 39, 129, ("5kg", "10kg")),
        ("Mineral Water", "矿泉水", 29, 69, ("24 x 550ml",)),
        ("Dark Chocolate", "黑巧克力", 39, 199, ("200g", "500g")))),
    ("toys", "TOY", "Toys", "玩具", 0.05, 26, (("Playnest", "Tinker"), ("童趣", "乐高乐")), (
        ("Building Blocks", "积木", 99, 1299, ("500 pcs", "1200 pcs")),
        ("Plush Toy", "毛绒玩具", 39, 299, ("30cm", "60cm")),
        ("RC Car", "遥控车", 149, 899, ("1:16", "1:10")),
        ("Jigsaw Puzzle", "拼图", 39, 199, ("1000 pcs",)),
        ("Board Game", "桌游", 99, 399, ("Family", "Strategy")),
        ("Camera Drone", "航拍无人机", 599, 4999, ("Mini", "4K")))),
    ("sports", "SPT", "Sports & outdoors", "运动户外", 0.06, 30, (("Trailpeak", "Fitcore"), ("驰野", "健翼")), (
        ("Yoga Mat", "瑜伽垫", 59, 299, ("6mm", "10mm")),
        ("Camping Tent", "帐篷", 299, 2599, ("2-person", "4-person")),
        ("Bicycle", "自行车", 899, 6999, ("City", "Mountain", "Road")),
        ("Treadmill", "跑步机", 2599, 12999, ("Home", "Pro")),
        ("Dumbbell Set", "哑铃套装", 199, 999, ("20kg", "40kg")),
        ("Badminton Racket", "羽毛球拍", 99, 899, ("Pair",)),
        ("Hiking Backpack", "登山包", 199, 1299, ("35L", "50L")),
        ("Basketball", "篮球", 99, 399, ("Size 7",)))),
    ("books", "BOK", "Books", "图书", 0.05, 30, ((), ()), (
        ("Python for Data Analysis", "Python数据分析", 79, 139, ("3rd ed.",)),
        ("Supply Chain Management", "供应链管理", 59, 129, ("Paperback",)),
        ("The Lean Startup", "精益创业", 39, 79, ("Paperback",)),
        ("Operations Management", "运营管理", 69, 149, ("Hardcover",)),
        ("Introduction to Algorithms", "算法导论", 99, 199, ("4th ed.",)),
        ("The Three-Body Problem", "三体", 39, 119, ("Set",)),
        ("Thinking, Fast and Slow", "思考，快与慢", 39, 89, ("Paperback",)),
        ("Financial Statement Analysis", "财务报表分析", 49, 109, ("Paperback",)),
        ("Deep Learning", "深度学习", 89, 169, ("Hardcover",)),
        ("The Art of War", "孙子兵法", 19, 59, ("Annotated",)),
        ("Dream of the Red Chamber", "红楼梦", 49, 129, ("2 volumes",)),
        ("Sapiens", "人类简史", 39, 89, ("Paperback",)))),
    ("office", "OFF", "Office supplies", "办公用品", 0.09, 34, (("Deskmate", "Scribe"), ("得力源", "晨光文")), (
        ("A4 Copy Paper", "A4复印纸", 99, 189, ("5 reams",)),
        ("Gel Pens", "中性笔", 19, 59, ("12 pcs", "24 pcs")),
        ("Stapler", "订书机", 19, 89, ("Heavy duty",)),
        ("Laser Printer", "激光打印机", 899, 4999, ("Mono", "Color")),
        ("Toner Cartridge", "硒鼓", 199, 899, ("Black", "CMYK set")),
        ("Paper Shredder", "碎纸机", 399, 1999, ("Cross-cut",)),
        ("Whiteboard", "白板", 99, 599, ("90x60", "120x90")),
        ("Notebook", "笔记本", 9, 49, ("A5 5-pack",)),
        ("Calculator", "计算器", 39, 199, ("Desktop",)),
        ("Label Printer", "标签打印机", 299, 1299, ("Bluetooth",)))),
)
SHORTAGE_CATEGORIES = ("phones", "home_appliances")   # out-of-stock voids concentrate here
FRAGILE_CATEGORIES = ("electronics", "phones")         # quality returns concentrate here
MODELS = ("X1", "X5", "S2", "S7", "Pro", "Plus", "Max", "Neo", "M3", "A9", "Lite", "Ultra")
MODEL_FROM_PRICE = 1500                                # durable goods (dearest variant from 1,500) carry a model
EDITIONS = (("Classic", "经典款"), ("Premium", "尊享版"), ("Eco", "环保款"), ("Plus", "升级款"), ("Mini", "轻巧款"),
            ("Gift set", "礼盒装"), ("Value pack", "实惠装"), ("2025", "2025款"))

VOID_REASONS = ("customer_cancelled", "out_of_stock", "order_error", "payment_failed", "fraud_risk", "other")
RETURN_REASONS = ("quality", "changed_mind", "wrong_item", "damaged", "other")
DEFAULT_LABELS = {
    ("void", "customer_cancelled"): ("Customer cancelled", "客户取消"),
    ("void", "out_of_stock"): ("Out of stock", "缺货"),
    ("void", "order_error"): ("Order information wrong", "订单信息错误"),
    ("void", "payment_failed"): ("Payment failed", "支付失败"),
    ("void", "fraud_risk"): ("Suspected fraud", "欺诈风险"),
    ("void", "other"): ("Other", "其他"),
    ("return", "quality"): ("Quality problem", "质量问题"),
    ("return", "changed_mind"): ("Customer changed mind", "需求变更"),
    ("return", "wrong_item"): ("Wrong item sent", "发错货"),
    ("return", "damaged"): ("Damaged in transit", "运输损坏"),
    ("return", "other"): ("Other", "其他"),
}

# Notes people type. Reasons flagged "note required" always get one of the "other" notes.
VOID_NOTES = {
    "customer_cancelled": ("Customer called to cancel", "客户电话要求取消", "Customer found a cheaper offer",
                           "客户预算调整，暂不采购"),
    "out_of_stock": ("Supplier delayed shipment", "供应商延迟到货", "No stock in this warehouse", "该仓库无货"),
    "order_error": ("Wrong quantity entered", "数量录入错误", "Duplicate order", "重复下单", "Wrong delivery address"),
    "payment_failed": ("Payment not received within 3 days", "超过付款期限未付款", "Bank transfer bounced"),
    "fraud_risk": ("Address does not match company record", "收货信息与企业信息不符"),
    "other": ("Customer merged this order into another one", "客户要求合并到其他订单", "Price dispute with customer",
              "项目取消", "Replaced by a framework contract", "客户公司搬迁，重新下单"),
}
REJECT_NOTES = ("Customer confirmed the order by phone", "客户已确认继续履约", "Goods already packed for shipping",
                "已打包待发，请走退货流程", "Please get written confirmation from the customer first",
                "需客户书面确认后再作废")
RETURN_NOTES = {
    "quality": ("Screen flickers after a day", "开机后屏幕闪烁", "Stitching came loose", "做工有瑕疵"),
    "changed_mind": ("Customer no longer needs it", "项目取消，不再需要", "Ordered too many", "采购数量过多"),
    "wrong_item": ("Wrong colour delivered", "颜色发错", "Model does not match the order", "型号与订单不符"),
    "damaged": ("Outer box damaged", "外包装破损", "Cracked on arrival", "到货即有裂痕"),
    "other": ("Customer asked for a replacement", "客户要求换货", "Manual missing", "缺少说明书",
              "Delivered twice by mistake", "重复发货"),
}
COMMENTS = (
    "Customer asked to deliver before Friday.", "客户要求周五前送达。", "Called the customer, address confirmed.",
    "已电话联系客户，地址确认无误。", "Please check stock in the other warehouse.", "请确认其他仓库是否有货。",
    "Invoice details updated.", "发票信息已更新。", "Customer wants a single shipment.", "客户要求合并发货。",
    "Delivery window 9:00-12:00 only.", "只能上午9点到12点收货。", "Payment voucher received by email.",
    "已收到付款凭证。", "Follow up with finance on the refund.", "请财务跟进退款。",
    "Customer is a key account, please prioritise.", "重点客户，请优先处理。",
)

USER_INDEX = {name: i for i, (name, _role, _display) in enumerate(USERS)}
REP_USERS = tuple(USER_INDEX[name] for name in REPS)
OPS_USER_IDS = tuple(USER_INDEX[name] for name in OPS_USERS)

# Every free text the demo uses, in one list so records can point at it by index.
NOTES = tuple(dict.fromkeys([n for notes in VOID_NOTES.values() for n in notes] + list(REJECT_NOTES)
                            + [n for notes in RETURN_NOTES.values() for n in notes] + list(COMMENTS)))
NOTE_INDEX = {note: i for i, note in enumerate(NOTES)}

# Chinese New Year's day, when orders all but stop for a week or two.
LUNAR_NEW_YEAR = {2019: "02-05", 2020: "01-25", 2021: "02-12", 2022: "02-01", 2023: "01-22", 2024: "02-10",
                  2025: "01-29", 2026: "02-17", 2027: "02-06", 2028: "01-26", 2029: "02-13", 2030: "02-03",
                  2031: "01-23", 2032: "02-11", 2033: "01-31", 2034: "02-19", 2035: "02-08"}
WEEKDAY_FACTOR = (1.10, 1.15, 1.12, 1.08, 1.02, 0.60, 0.45)      # Monday first
HOUR_WEIGHTS = (0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 2.0, 3.5, 4.0, 3.8, 2.5, 3.0, 3.6, 3.5, 3.2, 2.6,
                1.8, 1.4, 1.3, 1.1, 0.8, 0.4)
