"""CI job templates in ci/: valid against each runner's published schema
(check-jsonschema's vendored copies, with the network cut off by `unshare -n`),
the Jenkinsfile parsed by Groovy, and each one carrying the whole flow:
build, tests, plan, a manual approval, deploy, JUnit + HTML published, rollback."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

pytestmark = pytest.mark.slow

CI = Path(__file__).resolve().parents[3] / "ci"
GITHUB, GITLAB, AZURE, JENKINS = (CI / "github/deploy.yml", CI / "gitlab/.gitlab-ci.yml",
                                  CI / "azure/azure-pipelines.yml", CI / "jenkins/Jenkinsfile")
SCHEMA_ARGS = {
    GITHUB: ["vendor.github-workflows"],
    GITLAB: ["vendor.gitlab-ci", "--data-transform", "gitlab-ci"],
    AZURE: ["vendor.azure-pipelines", "--data-transform", "azure-pipelines", "--regex-variant", "nonunicode"],
}


def offline(argv: list[str]) -> list[str]:
    """Run without any network (we are root in CI), proving the schemas are vendored."""
    assert os.geteuid() == 0 and shutil.which("unshare"), "these tests run as root (ci/test installs packages)"
    return ["unshare", "-n", *argv]


def check_jsonschema(template: Path, path: Path | None = None) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).with_name("check-jsonschema")
    argv = offline([str(binary), "--builtin-schema", *SCHEMA_ARGS[template], str(path or template)])
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def groovy_parse(path: Path) -> subprocess.CompletedProcess[str]:
    script = "args.each { new GroovyShell().parse(new File(it)) }"
    return subprocess.run(offline(["groovy", "-e", script, str(path)]), capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("template", list(SCHEMA_ARGS), ids=lambda p: p.parent.name)
def test_yaml_templates_match_the_runner_schema(template):
    done = check_jsonschema(template)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout


BREAKAGES = {
    GITHUB: ("runs-on: ubuntu-latest", "runs_on: ubuntu-latest", "'runs-on' is a required property"),
    GITLAB: ("      when: manual", "      when: sometimes", "sometimes"),
    AZURE: ("      dependsOn: Plan", "      dependsOnn: Plan", "dependsOnn"),
}


@pytest.mark.parametrize("template", list(BREAKAGES), ids=lambda p: p.parent.name)
def test_schema_check_catches_a_mistake(template, tmp_path):
    old, new, complaint = BREAKAGES[template]
    text = template.read_text()
    assert old in text
    broken = tmp_path / template.name
    broken.write_text(text.replace(old, new, 1))
    done = check_jsonschema(template, broken)
    assert done.returncode == 1 and complaint in done.stdout, done.stdout


def test_jenkinsfile_parses_and_a_broken_one_does_not(tmp_path):
    done = groovy_parse(JENKINS)
    assert done.returncode == 0, done.stderr
    broken = tmp_path / "Jenkinsfile"
    broken.write_text(JENKINS.read_text().rstrip().removesuffix("}"))
    failed = groovy_parse(broken)
    assert failed.returncode == 1 and "expecting '}'" in failed.stderr


@pytest.mark.parametrize("template", [GITHUB, GITLAB, AZURE, JENKINS], ids=lambda p: p.parent.name)
def test_every_template_runs_the_whole_flow(template):
    # one spelling for the venv path (Jenkins) and the reports directory variable (Azure)
    text = re.sub(r'"\$\(REPORTS\)/([^"]+)"', r"reports/\1", template.read_text().replace('"$VENV/bin/invoke"', "invoke"))
    for command in ("invoke build", "ci/test", "invoke plan --env", "--format json", "invoke deploy --env",
                    "--events", "--junit reports/deploy-junit.xml", "--html reports/deploy-report.html",
                    "invoke report --from", "invoke rollback --env"):
        assert command in text, f"{template.name} lacks {command!r}"


def load(path: Path) -> dict:
    return YAML(typ="safe").load(io.StringIO(path.read_text()))


def test_github_gates_deploy_and_rollback_on_an_environment_and_publishes_reports():
    jobs = load(GITHUB)["jobs"]
    assert list(jobs) == ["build", "test", "plan", "deploy", "rollback"]
    assert jobs["deploy"]["needs"] == "plan" and "environment" in jobs["deploy"] and "environment" in jobs["rollback"]
    uploads = [s["with"]["path"] for s in jobs["deploy"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads == ["reports/"]
    assert any("action-junit-report" in s.get("uses", "") for s in jobs["deploy"]["steps"])
    assert "inputs.action == 'rollback'" in jobs["rollback"]["if"]


def test_gitlab_deploy_and_rollback_are_manual_and_publish_junit():
    config = load(GITLAB)
    for job in ("deploy", "rollback"):
        assert config[job]["rules"][0]["when"] == "manual"
        assert config[job]["artifacts"]["when"] == "always"
        assert config[job]["artifacts"]["reports"]["junit"].endswith("-junit.xml")
        assert config[job]["resource_group"] == "production"
    assert config["deploy"]["rules"][0]["allow_failure"] is False  # later stages wait for the approval
    assert "reports/deploy-report.html" in config["deploy"]["artifacts"]["paths"]


def test_azure_deploys_through_an_environment_and_publishes_results():
    text = AZURE.read_text()
    assert re.search(r"- deployment: deploy\n\s+environment: \$\{\{ parameters.environment \}\}", text)
    assert re.search(r"- deployment: rollback\n\s+environment:", text)
    assert text.count("task: PublishTestResults@2") == 3 and "artifact: deploy-report" in text


def test_jenkins_waits_for_approval_and_archives_reports():
    text = JENKINS.read_text()
    assert "input message:" in text and "submitter: 'release-managers'" in text
    assert "junit testResults: 'reports/*-junit.xml'" in text and "archiveArtifacts artifacts: 'reports/**'" in text
    assert "choice(name: 'ACTION', choices: ['deploy', 'rollback']" in text
