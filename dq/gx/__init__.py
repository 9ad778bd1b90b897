"""Great Expectations, behind one adapter: the engine, its DuckDB adaptations, and Data Docs."""
