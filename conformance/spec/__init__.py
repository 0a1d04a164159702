"""Readers for the official OICP material (OpenAPI 3 YAML for 2.3, Swagger 2 JSON for 2.2).

Only the schema builder uses this package; nothing at run time reads the official files.
"""
