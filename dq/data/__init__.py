"""Where data lives: the one module that opens the database and resolves tables, and binding
specs to the live column types."""
