"""The training gate: validate a snapshot, publish it fingerprinted, start the command, read it back."""
