"""Import of orders, order lines, customers, products and stock from CSV, Excel or Parquet (SPEC §9, issue #7).

read (readers; excel for a workbook's sheets) → map columns and values (mapping) → stage typed rows and check every
one (stage, dates for day/month order and offsets, and the kind's module) → load all or nothing in one transaction
(run). Set-based in DuckDB throughout."""
from lib.imports.fields import KINDS
from lib.imports.mapping import Mapping, from_json, propose
from lib.imports.readers import Source, read_bytes, read_path
from lib.imports.run import ImportResult, check_import, run_import

__all__ = ["KINDS", "ImportResult", "Mapping", "Source", "check_import", "from_json", "propose", "read_bytes",
           "read_path", "run_import"]
