"""`nnlint server`: the static pass's findings and fixes in the editor, over the Language Server Protocol.

Only server.py needs pygls (the `nnlint[lsp]` extra); the other modules are plain Python.
"""
