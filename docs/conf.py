# Sphinx configuration for the speccheck documentation.
# Build with:  sphinx-build -W docs docs/_build/html

project = "speccheck"
author = "the speccheck developers"
copyright = "the speccheck developers"
version = "0.1"
release = "0.1.0"

master_doc = "index"
root_doc = "index"
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build"]
extensions = []

language = "en"
highlight_language = "none"
pygments_style = "sphinx"
html_theme = "alabaster"
