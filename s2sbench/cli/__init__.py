"""The command line: thin; every command is one call into the library."""
