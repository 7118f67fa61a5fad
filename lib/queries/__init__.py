"""Read side: parameterized SQL in, plain rows or DataFrames out."""
