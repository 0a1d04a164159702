"""OICP domain rules that are not expressible in JSON Schema: ID ownership, time order, energy."""
