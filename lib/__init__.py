"""VoidDesk: order voids and returns workbench. Nothing in lib/ (but lib/ui/) imports Streamlit."""
