"""The schema builder: official OICP documents in, committed `schemas/` tree out."""
