"""Partners: the organisations a group works with, what was done together, a prospects
pipeline and contact scripts."""
