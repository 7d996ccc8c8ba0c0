"""Every public function, class and method of the package says what it is."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "deblurgan"


def _undocumented(tree: ast.AST, path: Path, prefix: str = "") -> list[str]:
    missing = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name.startswith("_"):
                continue  # private, and what is defined inside it
            if ast.get_docstring(node) is None:
                missing.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {prefix}{node.name}")
            if isinstance(node, ast.ClassDef):
                missing += _undocumented(node, path, f"{prefix}{node.name}.")
    return missing


def test_every_public_function_and_class_has_a_docstring():
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        missing += _undocumented(ast.parse(path.read_text()), path)
    assert not missing, "no docstring:\n" + "\n".join(missing)


def test_the_check_sees_a_missing_docstring():
    tree = ast.parse("def shown():\n    pass\n\nclass Kept:\n    def method(self):\n        pass\n")
    assert _undocumented(tree, PACKAGE / "example.py") == [
        "example.py:1 shown",
        "example.py:4 Kept",
        "example.py:5 Kept.method",
    ]
