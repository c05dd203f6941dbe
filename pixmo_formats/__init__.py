"""The text formats several rooms share, stdlib only (DESIGN.md "Contracts that several parts share").

`points`: point text (`<point …>`, `<points …>`, none, counting), rendered and read back.
`molmo2_points`: the point text Molmo2 models write (`<points coords="1 1 123 456">`).
`coords`: percent <-> pixel conversion and the one rounding rule.
`capqa`: CapQA dialogue text (`[USER] … [ASSISTANT] …`).
`arena`: the arena's JSON Lines prompts and answers files.
`vectors/`: JSON cases that the Python code and the browser's pointtext.js are both tested on.

This package imports nothing outside the standard library, so every room may import it.
"""
