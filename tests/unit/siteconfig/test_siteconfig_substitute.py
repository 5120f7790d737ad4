"""Octopus-style #{Name} substitution into the app's own settings files."""

import json

import pytest

from deploy.errors import ConfigError
from deploy.secrets import Secret
from deploy.siteconfig import substitute_files, substitute_text


def test_tokens_in_json_are_replaced_and_escaped():
    text = '{"db": "#{DbHost}", "port": #{DbPort}, "motto": "#{Motto}"}'
    out = substitute_text(text, {"DbHost": "db1", "DbPort": "5432", "Motto": 'say "hi" \\ bye'}, "appsettings.json")
    assert json.loads(out) == {"db": "db1", "port": 5432, "motto": 'say "hi" \\ bye'}


def test_python_settings_get_string_safe_values():
    text = "SECRET_KEY = '#{SecretKey}'\nALLOWED_HOSTS = ['#{Host}']\n"
    out = substitute_text(text, {"SecretKey": Secret("SECRET_KEY", "it's\\x"), "Host": "www.example.com"}, "local.py")
    scope: dict = {}
    exec(compile(out, "local.py", "exec"), scope)
    assert scope["SECRET_KEY"] == "it's\\x" and scope["ALLOWED_HOSTS"] == ["www.example.com"]


def test_ini_values_are_inserted_raw():
    out = substitute_text("[db]\nhost = #{Db:Host}\n", {"Db:Host": "10.0.0.9"}, "site.ini")
    assert out == "[db]\nhost = 10.0.0.9\n"


def test_missing_variables_name_file_and_each_variable():
    with pytest.raises(ConfigError) as e:
        substitute_text("a=#{One}\nb=#{Two}\nc=#{One}\n", {}, "conf/app.ini")
    assert e.value.problems == [
        "variable 'One' is used but has no value in this environment",
        "variable 'Two' is used but has no value in this environment",
    ]
    assert str(e.value).startswith("conf/app.ini: variable 'One'")


def test_a_result_that_no_longer_parses_is_refused():
    with pytest.raises(ConfigError, match=r"settings.json: no longer parses after substitution"):
        substitute_text('{"port": #{Port}}', {"Port": "eighty"}, "settings.json")


def test_files_change_only_when_all_of_them_substitute(tmp_path):
    (tmp_path / "conf").mkdir()
    good, bad = tmp_path / "conf" / "a.json", tmp_path / "b.py"
    good.write_text('{"x": "#{X}"}')
    bad.write_text("Y = '#{Y}'\n")
    with pytest.raises(ConfigError) as e:
        substitute_files(tmp_path, ["conf/a.json", "b.py", "gone.ini"], {"X": "1"})
    assert "b.py: variable 'Y' is used but has no value" in str(e.value)
    assert "gone.ini: listed in site.substitute but not found in the app" in str(e.value)
    assert good.read_text() == '{"x": "#{X}"}'  # untouched
    assert substitute_files(tmp_path, ["conf/a.json", "b.py"], {"X": "1", "Y": "2"}) == ["conf/a.json", "b.py"]
    assert json.loads(good.read_text()) == {"x": "1"} and bad.read_text() == "Y = '2'\n"


def test_parse_errors_never_show_a_secret_value():
    secret = Secret("DB_PASSWORD", "hunter2-very-secret")
    with pytest.raises(ConfigError) as e:
        substitute_text("[db]\npassword\n#{Pw}\n", {"Pw": secret}, "site.ini")
    assert "no longer parses" in str(e.value) and "hunter2-very-secret" not in str(e.value)
