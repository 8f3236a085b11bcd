"""deploy/traffic.py: DeploymentPreference types as alias weight steps."""

from lamb.deploy.traffic import preferences, steps


def test_steps():
    assert steps("CodeDeployDefault.LambdaAllAtOnce") == []
    assert steps("CodeDeployDefault.LambdaCanary10Percent5Minutes") == [(0.1, 300.0)]
    assert steps("Linear10PercentEvery1Minute") == [(k / 100, 60.0) for k in range(10, 100, 10)]
    assert steps("MyCustomConfig") is None


def test_preferences_follow_the_alias_update_policy():
    resources = {"Alias": {"UpdatePolicy": {"CodeDeployLambdaAliasUpdate": {"DeploymentGroupName": {"Ref": "Group"}}}},
                 "Group": {"Properties": {"DeploymentConfigName": "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes"}},
                 "Plain": {}}
    assert preferences(resources, lambda v: v) == {"Alias": "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes"}
