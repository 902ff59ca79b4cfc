"""The shipped example flows are valid and compile to grammar-valid documents."""

import pytest

from compiler import compile_flow, only_errors, validate
from compiler.examples import EXAMPLES, example
from compiler.grammar import problems as grammar_problems
from compiler.grammar import template_problems


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_is_valid_and_compiles(name):
    graph = example(name)
    assert only_errors(validate(graph)) == []
    compiled = compile_flow(graph)
    assert compiled.start in compiled.documents
    for doc, data in compiled.documents.items():
        assert template_problems(data) == [], doc
        if doc not in compiled.templated:
            assert grammar_problems(data) == [], doc


def test_main_menu_press_1_is_two_fetches():
    compiled = compile_flow(example("main-menu"))
    entry = compiled.documents["welcome"].decode()  # ends at the business-hours step: the host decides
    assert "<Redirect>/flexml/main-menu/1/hours/decide</Redirect>" in entry
    assert compiled.decisions["hours"].branches == {"open": "menu", "closed": "closed"}
    assert "<Gather action=\"/flexml/main-menu/1/menu/gather\"" in compiled.documents["menu"].decode()
    assert compiled.routers["menu"].route("1") == "sales"
    assert b"<Number>15162065340</Number>" in compiled.documents["sales"]
