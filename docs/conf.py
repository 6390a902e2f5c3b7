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
# checker.sphinx: the modeling language's lexer, the `speccheck` directive and the
# generated catalogue (docs/extension.rst); models are checked while the docs build
extensions = ["checker.sphinx"]
speccheck_models = "../models"      # the catalogue: every model there ...
speccheck_skip = ["runtime.spec"]   # ... except the prelude the models include
speccheck_catalogue = "catalogue"   # generated pages (docs/catalogue/, not in git)
# catalogue pages also proved for all sizes (docs/extension.rst): each proof takes
# seconds to minutes of CPU and the result cache does not keep them, so CI's fresh
# build proves only these (every model would add several minutes to .ci/run)
speccheck_all_sizes = ["extcache.spec", "extcache_311.spec"]

language = "en"
highlight_language = "none"
pygments_style = "sphinx"
html_theme = "alabaster"
# wide enough for the text reports (100 columns) and two-thread trace pictures
html_theme_options = {"page_width": "1240px", "sidebar_width": "240px",
                      "body_max_width": "none"}
