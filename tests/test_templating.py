"""Call-variable text as a small safe language: what it may say, what it refuses, and that neither checking
nor rendering can take more than a small fixed budget, whatever the text or the call's values."""

from __future__ import annotations

import sys
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import validate
from compiler.templating import MAX_DEPTH, MAX_RENDERED, MAX_TEXT, check, render, variables
from compiler.templating.syntax import TemplateError, parse
from tests.strategies import make_flow

# Texts an attack used: each passed the old checks (or froze them) and then froze or bloated the server.
ATTACKS = {
    "percent-format": "{{ '%999999999d' % 1 }}",
    "ljust": "{{ 'x'.ljust(999999999) }}",
    "center-filter": "{{ 'x'|center(3e8) }}",
    "replace-chain": "{{ From" + "|replace('1', '1111111111')" * 8 + " }}",
    "lipsum": "{{ lipsum(100000) }}",
    "range-map": "{{ range(100000)|map('center', 5000)|join }}",
    "power-tower": "{{ (((10**64)**64)**64)**64 }}",
    "power-tower-5": "{{ ((((10**64)**64)**64)**64)**64 }}",
    "for-loop": "{% for i in range(100000) %}{{ From }}{% endfor %}",
    "brackets-500": "{{ " + "(" * 500 + "1" + ")" * 500 + " }}",
    "unary-minus-20000": "{{ " + "-" * 20000 + "1 }}",
    "unary-minus-4000": "{{ " + "-" * 4000 + "1 }}",
    "plus-3000": "{{ " + "+".join(["1"] * 3000) + " }}",
    "plus-1500": "{{ " + "+".join(["1"] * 1500) + " }}",
    "ifs-5000-deep": "{% if From %}" * 5000,
    "ifs-9-deep": "{% if From %}" * 9 + "x" + "{% endif %}" * 9,
    "macro": "{% macro m() %}{{ caller() }}{% endmacro %}",
    "include": "{% include 'x' %}",
    "attribute": "{{ From.__class__ }}",
    "index": "{{ From[0] }}",
    "join-tilde": "{{ From ~ From }}",
}


def problem_of(text: str, where: dict) -> tuple:
    """The one validation problem of a flow whose text is ``text`` in the step ``where`` describes."""
    step = dict(where["step"])
    step.update(where["put"](text))
    problems = [p for p in validate(make_flow({"x": step})) if p.is_error]
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0].node, problems[0].field, problems[0].message


PLACES = {
    "say": {"step": {"type": "Say"}, "put": lambda t: {"text": t}, "field": "text"},
    "sms": {"step": {"type": "Sms"}, "put": lambda t: {"text": t}, "field": "text"},
    "menu-prompt": {"step": {"type": "Gather"}, "put": lambda t: {"prompt": [{"type": "Say", "text": t}]},
                    "field": "prompt[0].text"},
}


@pytest.mark.parametrize("attack", ATTACKS, ids=list(ATTACKS))
def test_each_attack_text_is_refused_by_validation_naming_the_step_and_field_in_a_few_mb(attack):
    for i, (place, where) in enumerate(PLACES.items()):
        text = ATTACKS[attack] + " " * i  # a text not seen before: nothing comes from a cache
        if place != "sms" and len(text) > 1024:
            continue  # a Say of more than 1,024 characters has that problem too
        tracemalloc.start()
        try:
            node, field, message = problem_of(text, where)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert (node, field) == ("x", where["field"]), message
        assert "call variable text" in message
        assert peak < 5 * 1024 * 1024, f"{attack} in {place}: {peak:,} bytes at peak"


@pytest.mark.parametrize("attack", ATTACKS, ids=list(ATTACKS))
def test_no_attack_text_recurses_even_with_almost_no_stack(attack):
    """The parser never recurses: it checks a text with only a few dozen frames of stack to spare."""
    depth = _stack_depth()
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 40)
    try:
        with pytest.raises(TemplateError):
            parse(ATTACKS[attack])
    finally:
        sys.setrecursionlimit(old)


def _stack_depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


@pytest.mark.parametrize("text, words", [
    ("{{ '%999999999d' % 1 }}", "no % formatting"),
    ("{{ 'x'.ljust(999999999) }}", "no attribute or method access"),
    ("{{ 'x'|center(3e8) }}", "No filter named 'center'"),
    ("{{ lipsum(100000) }}", "lipsum(…) is not allowed: no functions"),
    ("{{ (((10**64)**64)**64)**64 }}", "brackets are not allowed"),
    ("{% for i in range(100000) %}{% endfor %}", "no loops"),
    ("{% macro m() %}{% endmacro %}", "no macros"),
    ("{% include 'x' %}", "no includes"),
    ("{{ From * 2 }}", "no arithmetic"),
    ("{{ 12 }}", "numbers must be written as quoted text"),
    ("Hello {{ From", "{{ is not closed with }}"),
    ("{% if From %}yes", "{% if %} is not closed with {% endif %}"),
    ("{% else %}", "without an {% if %}"),
    ("{{ From | default }}", "takes one quoted argument"),
    ("{{ 'abc }}", "is not closed"),
    ("{% if From %}" * (MAX_DEPTH + 1), f"nested more than {MAX_DEPTH} deep"),
    ("{{ From }}" + "x" * MAX_TEXT, f"at most {MAX_TEXT:,}"),
])
def test_a_refusal_says_what_is_wrong_in_plain_words(text, words):
    message = check(text)
    assert message is not None and words in message, message


def test_a_refusal_names_the_line_of_the_text():
    assert "mistake on line 3" in check("Hello\n\nthere {{ From.x }}")


def test_unknown_names_are_refused_and_known_names_can_be_widened():
    assert "unknown call variable 'language'" in check("{{ language }}")
    assert check("{{ language }} {{ From }}", known_names=("language", "From")) is None


@pytest.mark.parametrize("text, values, said", [
    ("Hello {{ From }}.", {"From": "15551230001"}, "Hello 15551230001."),
    ("You pressed {{ Digits }}.", {}, "You pressed ."),  # a variable the call lacks is empty
    ("{{ 'quoted words' }}", {}, "quoted words"),
    ("{{ CallerName | default('friend') }}", {"CallerName": ""}, "friend"),
    ("{{ CallerName | default('friend') }}", {"CallerName": "Ann"}, "Ann"),
    ("{{ CallerName | upper }} {{ CallerName | lower }} {{ CallerName | title }}", {"CallerName": "aNN lee"},
     "ANN LEE ann lee Ann Lee"),
    ("[{{ CallerName | trim | capitalize }}]", {"CallerName": "  aNN "}, "[Ann]"),
    ("{{ Digits | digits }}", {"Digits": "1234#"}, "1 2 3 4 #"),
    ("{{ From | digits }}", {"From": "+1 (516) 206"}, "1 5 1 6 2 0 6"),
    ("{% if From %}Hello {{ From }}{% else %}Hello{% endif %}", {"From": "1555"}, "Hello 1555"),
    ("{% if From %}Hello {{ From }}{% else %}Hello{% endif %}", {"From": ""}, "Hello"),
    ("{% if Digits == '1' %}sales{% elif Digits != '2' %}other{% else %}support{% endif %}", {"Digits": "2"},
     "support"),
    ("{% if Digits == '1' %}sales{% elif Digits != '2' %}other{% else %}support{% endif %}", {"Digits": "7"},
     "other"),
    ("{% if not CallerName and From or To == 'x' %}yes{% endif %}", {"From": "1"}, "yes"),
    ("{% if not CallerName and From or To == 'x' %}yes{% endif %}", {"CallerName": "A", "To": "x"}, "yes"),
    ("{% if not CallerName and From or To == 'x' %}yes{% endif %}", {"CallerName": "A"}, ""),
    ("a{# a note for whoever edits this #}b", {}, "ab"),
    ("{{ \"it's\" }} {{ 'say \\'hi\\'' }}", {}, "it's say 'hi'"),
    ("Hi {{ CallerName }}", {"CallerName": "A\x00B\x1f"}, "Hi AB"),  # what XML cannot hold is dropped
])
def test_what_a_call_hears(text, values, said):
    assert check(text) is None
    assert render(text, values) == said


def test_the_if_example_of_the_docs_and_tests_still_works():
    text = "{% if From %}Hello {{ From }}{% else %}Hello{% endif %}"
    assert check(text) is None and variables(text) == {"From"}


def test_variables_lists_every_name_read_even_in_conditions():
    text = "{% if Digits == To %}{{ From | default('x') }}{% elif not CallerName %}{% endif %}"
    assert variables(text) == {"Digits", "To", "From", "CallerName"}
    assert variables("{{ broken") == set()


def test_rendering_is_capped_whatever_the_values():
    many = "{{ From }}" * 400  # 4,000 characters of text, each part a huge value
    out = render(many, {"From": "9" * 1_000_000})
    assert len(out) == MAX_RENDERED
    assert len(render("{{ From | digits }}", {"From": "1" * 100_000}, cap=1024)) == 1024


def test_text_that_does_not_parse_renders_empty_on_a_call_instead_of_raising():
    for text in ATTACKS.values():
        assert render(text, {"From": "1"}) == ""


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("{}%#|()'\"=!-+*.,~ \nabcFromDigitsifelsendnotr0123")), max_size=200))
def test_any_text_is_either_refused_with_a_message_or_renders_within_the_cap(text):
    message = check(text)
    assert message is None or isinstance(message, str)
    out = render(text, {"From": "15551230001" * 50, "Digits": "12#"}, cap=100)
    assert isinstance(out, str) and len(out) <= 100
    if message is not None and "unknown call variable" not in message:
        assert out == ""  # a text with a mistake is never run


def test_characters_xml_cannot_hold_are_dropped_before_the_cap_so_none_of_it_is_wasted():
    assert render("{{ CallerName }}", {"CallerName": "\x00" * 5000 + "abc" + "\x1f" * 10 + "d" * 20}, cap=10) \
        == "abcddddddd"


def test_filters_in_conditions_read_a_bounded_amount_whatever_the_text(monkeypatch):
    # attack: conditions write no output, so the output's cap did not stop them; 60 chains of eight
    # digits filters over a 100,000-digit From took about 230 ms of a live call's event loop per text
    from compiler.templating import filters
    from compiler.templating.evaluate import MAX_WORK

    read = []
    for name, spec in list(filters.FILTERS.items()):
        def counting(value, *args, _f=spec.function):
            read.append(len(value))
            return _f(value, *args)
        monkeypatch.setitem(filters.FILTERS, name, filters.FilterSpec(counting, spec.arguments, spec.help))
    chain = "From" + "|digits" * 8
    text = "{% if " + " and ".join([chain] * 60) + " %}x{% endif %}"
    assert check(text) is None and len(text) <= MAX_TEXT
    assert render(text, {"From": "1" * 100_000}) == ""
    assert 0 < sum(read) <= MAX_WORK
    read.clear()
    assert render("{% if From | digits %}{{ Digits | digits }}{% endif %}", VALUES_SHORT) == "1 2 #"
    assert sum(read) < 100


VALUES_SHORT = {"From": "15551230001", "Digits": "12#"}
