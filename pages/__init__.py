"""Streamlit pages of RNN Lab; ``common`` holds the helpers they share.

Importing the package (every page does) sends a fresh server's first deep link through
app.py's router: see :func:`pages._compat.route_first_deep_link`.
"""

from pages._compat import route_first_deep_link

route_first_deep_link()
