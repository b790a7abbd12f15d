"""One entry point per stage; each job only wires arguments, tables and udfs."""
