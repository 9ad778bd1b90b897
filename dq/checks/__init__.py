"""What a contract asks, engine-neutral: the kinds, compiled specs, values bound to column types, SQL."""
