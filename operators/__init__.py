"""Pure per-key step logic, one package per concern; message types and ids at the root."""
