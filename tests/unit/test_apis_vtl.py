"""apis/vtl.py: API Gateway's mapping template variables over airspeed."""

from __future__ import annotations

import json

import pytest

from lamb.apis import vtl

BODY = b'{"name": "Ann", "tags": ["a", "b"], "ok": true, "n": {"x": 1}, "none": null}'
PARAMS = {"path": {"id": "7"}, "querystring": {"q": "x y"}, "header": {"X-Thing": "H"}}


def render(template: str, **kw) -> str:
    kw.setdefault("body", BODY)
    kw.setdefault("params", PARAMS)
    return vtl.render(template, **kw)


def test_input_json_path_and_body():
    assert render("$input.json('$')") == '{"name":"Ann","tags":["a","b"],"ok":true,"n":{"x":1},"none":null}'
    assert render("$input.json('$.n')") == '{"x":1}'
    assert render("$input.json('$.missing')") == "null"
    assert render("$input.path('$.name') $input.path('$.tags').size() $input.path('$.tags')[1]") == "Ann 2 b"
    assert render("$input.path('$.ok') $input.path('$.n') $input.path('$.tags')") == "true {x=1} [a, b]"
    assert render("#if($input.path('$.ok'))yes#end") == "yes"
    assert render("#set($d = $input.path('$'))$d.n.x $d.name.length()") == "1 3"
    assert render("$input.body", body=b"plain text") == "plain text"
    assert render("$input.path('$')", body=b"plain text") == "plain text"


def test_input_params():
    assert render("$input.params('id') $input.params('q') $input.params('x-thing') [$input.params('nope')]") == \
        "7 x y H []"
    assert render("$input.params().path.id $input.params().querystring.get('q') $input.params().header.size()") == \
        "7 x y 1"
    assert render("#foreach($k in $input.params().path.keySet())$k=$input.params().path.get($k)#end") == "id=7"


def test_util_functions():
    assert render("$util.escapeJavaScript($input.path('$.v'))", body=b'{"v": "a\\"b\'c/\\\\\\n\\u00e9"}') == \
        "a\\\"b\\'c\\/\\\\\\n\\u00E9"
    assert render("$util.base64Encode('hi') $util.base64Decode('aGk=')") == "aGk= hi"
    assert render("$util.urlEncode('a b&c=d*') $util.urlDecode('a+b%26c')") == "a+b%26c%3Dd* a b&c"
    assert render("#set($o = $util.parseJson('{\"k\": [1, 2]}'))$o.k.size()") == "2"
    with pytest.raises(vtl.TemplateError):
        render("$util.parseJson('{nope')")


def test_context_and_stage_variables():
    out = render("$context.requestId $context.identity.sourceIp $stageVariables.env",
                 context={"requestId": "r1", "identity": {"sourceIp": "1.2.3.4"}}, stage_variables={"env": "dev"})
    assert out == "r1 1.2.3.4 dev"


def test_json_path_forms():
    doc = {"a": [{"b": 1}, {"b": 2}], "c d": {"e": True}}
    assert vtl.json_path(doc, "$..b") == [1, 2]
    assert vtl.json_path(doc, "$.a[-1].b") == 2
    assert vtl.json_path(doc, "$.a[*].b") == [1, 2]
    assert vtl.json_path(doc, "$['c d'].e") is True
    assert vtl.json_path(doc, "$.a[5]") is None
    with pytest.raises(vtl.TemplateError):
        vtl.json_path(doc, "a.b")


def test_pick_by_media_type():
    templates = {"application/json": "J", "text/plain": "T"}
    assert vtl.pick(templates, "text/plain; charset=utf-8") == "T"
    assert vtl.pick(templates, None) == "J"
    assert vtl.pick(templates, "image/png") is None
    assert vtl.pick({}, None) is None


def test_a_broken_template_is_a_template_error():
    with pytest.raises(vtl.TemplateError):
        render("#if($x")


# The console's "Method Request passthrough" template (its params and context parts).
PASSTHROUGH = """#set($allParams = $input.params())
{
"body-json" : $input.json('$'),
"params" : {
#foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
"$type" : {
    #foreach($paramName in $params.keySet())
    "$paramName" : "$util.escapeJavaScript($params.get($paramName))"
        #if($foreach.hasNext),#end
    #end
}
    #if($foreach.hasNext),#end
#end
},
"stage-variables" : {
#foreach($key in $stageVariables.keySet())
"$key" : "$util.escapeJavaScript($stageVariables.get($key))"
    #if($foreach.hasNext),#end
#end
},
"context" : {
    "account-id" : "$context.identity.accountId",
    "authorizer-principal-id" : "$context.authorizer.principalId",
    "http-method" : "$context.httpMethod",
    "source-ip" : "$context.identity.sourceIp"
    }
}"""


def test_the_console_passthrough_template():
    out = render(PASSTHROUGH, body=b'{"a": 1}', stage_variables={"env": "dev"},
                 params={"path": {"id": "7"}, "querystring": {"q": 'x"y'}, "header": {"User-Agent": "curl"}},
                 context={"httpMethod": "GET", "identity": {"sourceIp": "1.2.3.4"}, "authorizer": None})
    assert json.loads(out) == {
        "body-json": {"a": 1}, "params": {"path": {"id": "7"}, "querystring": {"q": 'x"y'},
                                          "header": {"User-Agent": "curl"}},
        "stage-variables": {"env": "dev"},
        "context": {"account-id": "", "authorizer-principal-id": "", "http-method": "GET", "source-ip": "1.2.3.4"}}


def test_null_and_absent_values_print_nothing():
    body = b'{"none": null, "n": {"x": null}}'
    assert render("[$input.path('$.none')][$input.path('$.missing')][$input.path('$.n').nope][$input.path('$.n')]",
                  body=body) == "[][][][{x=null}]"
    assert render("#if($input.path('$.none'))T#{else}F#end #if($input.path('$.none') == '')empty#end", body=body) == \
        "F empty"
    assert render("$input.params().path.containsKey('id') $input.params().path.containsKey('no')") == "true false"
    assert render("[$stageVariables.nope][$context.identity.user]", context={"identity": {}}) == "[][]"
