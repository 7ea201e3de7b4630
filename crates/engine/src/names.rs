//! Names as code wants them, as Tera filters every skill's templates (and step paths) can use:
//! `snake_case` (`BlogPost` -> `blog_post`), `pascal_case` (`blog_post` -> `BlogPost`) and
//! `plural` (English, for table names: `category` -> `categories`). Generic: no skill's names.

use std::collections::HashMap;

use serde_json::Value;

/// A Tera instance with autoescaping off (the output is code, not HTML) and the filters below.
pub fn tera() -> tera::Tera {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    tera.register_filter("snake_case", filter(snake_case));
    tera.register_filter("pascal_case", filter(pascal_case));
    tera.register_filter("plural", filter(plural));
    tera
}

fn filter(f: fn(&str) -> String) -> impl tera::Filter {
    move |value: &Value, _: &HashMap<String, Value>| -> tera::Result<Value> {
        match value.as_str() {
            Some(text) => Ok(Value::String(f(text))),
            None => Err(tera::Error::msg(format!("expected a string, got {value}"))),
        }
    }
}

/// `BlogPost`, `blogPost`, `blog-post`, `HTTPServer` -> `blog_post`, `http_server`.
pub fn snake_case(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c == '-' || c == ' ' || c == '_' {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            continue;
        }
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if (prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower))
                && !out.ends_with('_')
            {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out.trim_end_matches('_').to_owned()
}

/// `blog_post`, `blog-post`, `blogPost` -> `BlogPost`.
pub fn pascal_case(text: &str) -> String {
    text.split(['_', '-', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().expect("not empty");
            first.to_uppercase().chain(chars).collect::<String>()
        })
        .collect()
}

/// The English plural of the last word: `category` -> `categories`, `box` -> `boxes`,
/// `post` -> `posts`.
pub fn plural(text: &str) -> String {
    let lower = text.to_lowercase();
    let consonant_y = lower.ends_with('y') && !["ay", "ey", "iy", "oy", "uy"].iter().any(|e| lower.ends_with(e));
    if consonant_y {
        return format!("{}ies", &text[..text.len() - 1]);
    }
    if ["s", "x", "z", "ch", "sh"].iter().any(|e| lower.ends_with(e)) {
        return format!("{text}es");
    }
    format!("{text}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for (a, b) in [
            ("BlogPost", "blog_post"),
            ("HTTPServer", "http_server"),
            ("post", "post"),
            ("blog-post", "blog_post"),
            ("OrderItem2", "order_item2"),
            ("userID", "user_id"),
        ] {
            assert_eq!(snake_case(a), b, "{a}");
        }
        assert_eq!(pascal_case("blog_post"), "BlogPost");
        assert_eq!(pascal_case("Post"), "Post");
        for (a, b) in [
            ("post", "posts"),
            ("category", "categories"),
            ("day", "days"),
            ("box", "boxes"),
            ("blog_post", "blog_posts"),
            ("address", "addresses"),
        ] {
            assert_eq!(plural(a), b, "{a}");
        }
        let mut t = tera();
        t.add_raw_template("x", "{{ e | snake_case | plural }}/{{ e | pascal_case }}").unwrap();
        let ctx = tera::Context::from_value(serde_json::json!({"e": "OrderCategory"})).unwrap();
        assert_eq!(t.render("x", &ctx).unwrap(), "order_categories/OrderCategory");
    }
}
