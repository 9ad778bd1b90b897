"""Other formats a contract is written in or exported to: ODCS v3 (both ways), Pandera, GX."""
