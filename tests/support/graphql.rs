//! The GraphQL that GitHub's and GitLab's stand-ins understand, parsed with a real GraphQL parser
//! (`graphql-parser`): operations with variables (declared, and given in the request's
//! `variables`), aliases, named fragments and inline fragments, each field checked against the
//! type it is asked of, and the error shape both forges' graphql-ruby answers with
//! (`{"errors": [{"message", "locations", "path"?}]}`, HTTP 200, no `data`) for a query it
//! cannot run at all.

use std::collections::HashMap;

use graphql_parser::query::{
    Definition, Document, OperationDefinition, Selection, SelectionSet, TypeCondition,
};
use serde_json::{Map, Value, json};

use super::fake_forge::Reply;

/// A field as asked: its key in the answer (its alias, else its name), its arguments with the
/// variables put in, its own fields (fragments expanded), and where it is in the query.
#[derive(Debug, Clone)]
pub struct Field {
    pub key: String,
    pub name: String,
    pub args: Map<String, Value>,
    pub fields: Vec<Field>,
    pub line: usize,
    pub column: usize,
}

impl Field {
    pub fn location(&self) -> Value {
        json!([{"line": self.line, "column": self.column}])
    }
}

/// What a type offers: each field's name, and the type of its own fields (`None` for a scalar).
pub type Schema = HashMap<&'static str, Vec<(&'static str, Option<&'static str>)>>;

/// A query that cannot run, answered as graphql-ruby answers it.
pub fn refusal(message: &str, line: usize, column: usize) -> Reply {
    Reply::json(
        200,
        json!({"errors": [{"message": message, "locations": [{"line": line, "column": column}]}]}),
    )
}

/// The root fields of the request `body` (`{"query", "variables"}`), checked against `schema`
/// from its `Query` type; or the answer refusing it.
pub fn parse(body: &str, schema: &Schema) -> Result<Vec<Field>, Reply> {
    let request: Value = serde_json::from_str(body)
        .map_err(|_| Reply::json(400, json!({"message": "Problems parsing JSON"})))?;
    let text = request["query"].as_str().unwrap_or("");
    let variables = request
        .get("variables")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let document: Document<'static, String> = graphql_parser::parse_query::<String>(text)
        .map_err(|e| {
            let said = e.to_string();
            refusal(
                &format!("Parse error: {}", said.lines().next().unwrap_or("")),
                1,
                1,
            )
        })?
        .into_static();
    let mut fragments = HashMap::new();
    let mut operation = None;
    for definition in &document.definitions {
        match definition {
            Definition::Fragment(f) => {
                let TypeCondition::On(on) = &f.type_condition;
                fragments.insert(f.name.clone(), (on.clone(), f.selection_set.clone()));
            }
            Definition::Operation(op) => operation = Some(op.clone()),
        }
    }
    let (declared, set) = match operation {
        Some(OperationDefinition::SelectionSet(set)) => (Vec::new(), set),
        Some(OperationDefinition::Query(q)) => (
            q.variable_definitions
                .iter()
                .map(|v| v.name.clone())
                .collect(),
            q.selection_set,
        ),
        _ => return Err(refusal("Only queries are answered here", 1, 1)),
    };
    let context = Context {
        schema,
        fragments: &fragments,
        variables: &variables,
        declared: &declared,
    };
    context.fields(&set, "Query")
}

struct Context<'a> {
    schema: &'a Schema,
    fragments: &'a HashMap<String, (String, SelectionSet<'static, String>)>,
    variables: &'a Map<String, Value>,
    declared: &'a [String],
}

impl Context<'_> {
    /// The fields of `set` asked of `on`, fragments expanded.
    fn fields(&self, set: &SelectionSet<'static, String>, on: &str) -> Result<Vec<Field>, Reply> {
        let mut out = Vec::new();
        for item in &set.items {
            match item {
                Selection::Field(f) => {
                    let offered = self.schema.get(on).and_then(|fields| {
                        fields.iter().find(|(name, _)| *name == f.name.as_str())
                    });
                    let Some((_, inner)) = offered else {
                        let said = format!("Field '{}' doesn't exist on type '{on}'", f.name);
                        return Err(refusal(&said, f.position.line, f.position.column));
                    };
                    let mut args = Map::new();
                    for (name, value) in &f.arguments {
                        args.insert(name.clone(), self.value(value, f.position)?);
                    }
                    let fields = match inner {
                        Some(inner) => self.fields(&f.selection_set, inner)?,
                        None => Vec::new(),
                    };
                    out.push(Field {
                        key: f.alias.clone().unwrap_or_else(|| f.name.clone()),
                        name: f.name.clone(),
                        args,
                        fields,
                        line: f.position.line,
                        column: f.position.column,
                    });
                }
                Selection::FragmentSpread(s) => {
                    let Some((type_on, inner)) = self.fragments.get(&s.fragment_name) else {
                        let said =
                            format!("Fragment {} was used, but not defined", s.fragment_name);
                        return Err(refusal(&said, s.position.line, s.position.column));
                    };
                    if type_on == on {
                        out.extend(self.fields(inner, on)?);
                    }
                }
                Selection::InlineFragment(i) => {
                    let applies = match &i.type_condition {
                        Some(TypeCondition::On(t)) => t == on,
                        None => true,
                    };
                    if applies {
                        out.extend(self.fields(&i.selection_set, on)?);
                    }
                }
            }
        }
        Ok(out)
    }

    /// An argument's value, a variable's taken from the request.
    fn value(
        &self,
        value: &graphql_parser::query::Value<'static, String>,
        at: graphql_parser::Pos,
    ) -> Result<Value, Reply> {
        use graphql_parser::query::Value as V;
        Ok(match value {
            V::Variable(name) => {
                if !self.declared.contains(name) {
                    let said =
                        format!("Variable ${name} is used by anonymous query but not declared");
                    return Err(refusal(&said, at.line, at.column));
                }
                self.variables.get(name).cloned().unwrap_or(Value::Null)
            }
            V::Int(n) => json!(n.as_i64()),
            V::Float(f) => json!(f),
            V::String(s) => json!(s),
            V::Boolean(b) => json!(b),
            V::Null => Value::Null,
            V::Enum(e) => json!(e),
            V::List(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.value(i, at))
                    .collect::<Result<_, _>>()?,
            ),
            V::Object(map) => {
                let mut out = Map::new();
                for (k, v) in map {
                    out.insert(k.clone(), self.value(v, at)?);
                }
                Value::Object(out)
            }
        })
    }
}

/// The scalar fields asked of an object, from `values` (a field it does not have is `null`).
pub fn select(fields: &[Field], values: &Value) -> Value {
    let mut out = Map::new();
    for f in fields {
        out.insert(
            f.key.clone(),
            values.get(&f.name).cloned().unwrap_or(Value::Null),
        );
    }
    Value::Object(out)
}
