"""Reference implementations of OICP partners, written as an independent team would write them.

They never import the checks, the fake hub or the strategies: a blind spot of the judge cannot hide
in the judged. Each takes named defect switches so every check can be shown to catch its defect.
"""
