"""The `oicp-conformance` command line: one module per subcommand."""
