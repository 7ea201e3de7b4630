//! Skills are data: a second skill set loaded with `--skills-dir` runs through the same runtime,
//! and a broken skill is refused with the file and the reason when it is used (`list` and `match`
//! read only the manifest; the set's other skills still work; `check` and the MCP server, which
//! need every skill, refuse the set).

use crate::support::Test;

use crate::support::write_file as write;

pub(crate) fn greeting_skill(root: &std::path::Path) {
    write(
        root,
        "manifest.json",
        r#"{"skills": [{"id": "greeting-file", "version": "0.1.0",
        "title": {"en": "Greeting file", "ko": "인사 파일"}, "description": {"en": "Writes a greeting.", "ko": "인사말을 씁니다."},
        "triggers": {"en": ["write a greeting"], "ko": ["인사말 작성"]},
        "inputSchema": "schemas/greeting.json", "dir": "skills/greeting-file"}]}"#,
    );
    write(
        root,
        "schemas/greeting.json",
        r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
        "properties": {"projectPath": {"type": "string", "x-project-dir": true}, "name": {"type": "string", "minLength": 1, "x-hint": {"en": "say who to greet", "ko": "누구에게 인사할지 쓰세요"}}},
        "required": ["projectPath", "name"], "additionalProperties": false}"#,
    );
    write(
        root,
        "skills/greeting-file/SKILL.md",
        "---\nname: greeting-file\ndescription: Writes hello.txt. Use for \"write a greeting\".\n---\n# Greeting\n",
    );
    write(
        root,
        "skills/greeting-file/skill.json",
        r#"{"steps": [{"kind": "render", "path": "hello.txt", "template": "templates/hello.txt.tera"},
        {"kind": "lines", "path": ".gitignore", "lines": ["*.log"]}], "commands": [{"run": "cat hello.txt"}]}"#,
    );
    write(root, "skills/greeting-file/templates/hello.txt.tera", "Hello, {{ name }}!\n");
}

#[test]
fn a_second_skill_needs_no_code() {
    let t = Test::new();
    let skills = t.dir.path().join("skills-set");
    greeting_skill(&skills);
    let dir = skills.to_str().unwrap();
    let ran = Test::new().args(["--skills-dir", dir, "match", "인사말을 작성해줘", "--json"]).run().code(0);
    assert_eq!(ran.json()["matches"][0]["skill"], "greeting-file");
    let input = serde_json::json!({"projectPath": t.project(), "name": "Ada"}).to_string();
    let t = t.args(["--skills-dir", dir, "run", "greeting-file", "--json", "--input", &input]);
    let json = t.run().code(0).json();
    assert_eq!(json["commands"][0], "cat hello.txt");
    assert_eq!(t.read("hello.txt"), "Hello, Ada!\n");
    let ran = Test::new()
        .args(["--skills-dir", dir, "run", "greeting-file", "--json", "--input", r#"{"projectPath": "."}"#])
        .run()
        .code(2);
    assert_eq!(ran.json()["errors"][0]["message"], "is required but missing; say who to greet");
}

#[test]
fn a_broken_skill_is_refused_with_the_reason_when_it_is_used() {
    let t = Test::new();
    let skills = t.dir.path().join("skills-set");
    let dir = skills.to_str().unwrap();
    greeting_skill(&skills);
    write(&skills, "skills/greeting-file/SKILL.md", "---\nname: Greeting\ndescription: x\n---\n");
    let said =
        "skills/greeting-file/SKILL.md: front matter `name: Greeting` must equal the directory name `greeting-file`";
    for command in [&["show", "greeting-file"][..], &["run", "greeting-file", "--input", "{}"], &["check"]] {
        let ran = Test::new().args(["--skills-dir", dir]).args(command).run().code(1);
        assert!(ran.stderr.contains(said), "{command:?}: {}", ran.stderr);
    }
    greeting_skill(&skills);
    write(
        &skills,
        "skills/greeting-file/skill.json",
        r#"{"steps": [{"kind": "render", "path": "../escape.txt", "template": "templates/hello.txt.tera"}]}"#,
    );
    let ran = Test::new().args(["--skills-dir", dir, "check"]).run().code(1);
    assert!(ran.stderr.contains("skills/greeting-file/skill.json: at `/steps/0/path`"), "{}", ran.stderr);
    assert_eq!(ran.stdout, "skills checked: 1, broken: 1\n");
}

/// The composed set below with `kitchen-sink`'s skill.json broken: `base-files` still lists,
/// matches and runs; `kitchen-sink` fails with its file named wherever it is used.
#[test]
fn the_other_skills_of_a_set_with_a_broken_skill_still_list_match_and_run() {
    let t = Test::new();
    let skills = t.dir.path().join("skills-set");
    composed_set(&skills);
    write(&skills, "skills/kitchen-sink/skill.json", r#"{"steps": [{"kind": "render"}"#);
    let dir = skills.to_str().unwrap();
    let said = "invalid skill set: skills/kitchen-sink/skill.json: not valid JSON";
    let listed = Test::new().args(["--skills-dir", dir, "list", "--json"]).run().code(0).json();
    assert_eq!(listed["skills"].as_array().unwrap().len(), 2, "{listed}");
    let matched = Test::new().args(["--skills-dir", dir, "match", "lay the base files", "--json"]).run().code(0).json();
    assert_eq!(matched["matches"][0]["skill"], "base-files", "{matched}");
    assert_eq!(matched["matches"][0]["missingInputs"][0]["field"], "dir", "{matched}");
    run_json(dir, "base-files", &serde_json::json!({"dir": t.project(), "flavor": "plain"}), 0);
    assert_eq!(t.read("base.txt"), "plain\n");
    let sink = serde_json::json!({"dir": t.project(), "name": "Widget"});
    for command in [
        vec!["match", "add the kitchen sink"],
        vec!["run", "kitchen-sink", "--input", &sink.to_string()],
        vec!["schema", "kitchen-sink"],
        vec!["check"],
    ] {
        let ran = Test::new().args(["--skills-dir", dir]).args(&command).run().code(1);
        assert!(ran.stderr.contains(said), "{command:?}: {}", ran.stderr);
    }
    let failed = run_json(dir, "kitchen-sink", &sink, 1);
    assert!(failed["message"].as_str().unwrap().contains(said), "{failed}");
    // The MCP server lists every skill as a tool with its input schema: it does not start.
    let ran = Test::new().args(["--skills-dir", dir, "serve"]).run().code(1);
    assert!(ran.stderr.contains(said), "{}", ran.stderr);
}

/// A skill whose step writes to `target` (relative to the project).
fn escaping_skill(root: &std::path::Path, target: &str) {
    greeting_skill(root);
    let steps = serde_json::json!({"steps": [
        {"kind": "render", "path": "hello.txt", "template": "templates/hello.txt.tera"},
        {"kind": "render", "path": target, "template": "templates/hello.txt.tera"}
    ]});
    write(root, "skills/greeting-file/skill.json", &steps.to_string());
}

#[test]
fn a_skill_cannot_write_outside_the_project() {
    let t = Test::new();
    let outside = t.dir.path().join("outside.txt");
    let targets = [
        "../outside.txt".to_owned(),
        "sub/../../outside.txt".to_owned(),
        outside.display().to_string(),
        "./../outside.txt".to_owned(),
    ];
    for (i, target) in targets.iter().enumerate() {
        let skills = t.dir.path().join(format!("skills-{i}"));
        escaping_skill(&skills, target);
        let project = t.dir.path().join(format!("project-{i}"));
        std::fs::create_dir(&project).unwrap();
        let input = serde_json::json!({"projectPath": project, "name": "Ada"}).to_string();
        let ran = Test::new()
            .args(["--skills-dir", skills.to_str().unwrap(), "run", "greeting-file", "--json", "--input", &input])
            .run();
        assert_ne!(ran.code, 0, "{target}: {}", ran.stdout);
        let said = format!("{}{}", ran.stdout, ran.stderr);
        assert!(said.contains("inside the project"), "{target}: {said}");
        assert!(!outside.exists(), "{target}: wrote outside the project");
        assert_eq!(std::fs::read_dir(&project).unwrap().count(), 0, "{target}: nothing is written at all");
    }
}

/// A skill that registers a module in a package's `__init__.py` (`python-imports`), with a step
/// path and import lines rendered from the input (`{{ name | snake_case }}`).
fn registering_skill(root: &std::path::Path) {
    greeting_skill(root);
    let steps = serde_json::json!({"steps": [
        {"kind": "render", "path": "pkg/{{ name | snake_case }}.py", "template": "templates/hello.txt.tera"},
        {"kind": "python-imports", "path": "pkg/__init__.py",
         "imports": ["from pkg.{{ name | snake_case }} import {{ name | pascal_case }}"], "all": ["{{ name | pascal_case }}"]}
    ]});
    write(root, "skills/greeting-file/skill.json", &steps.to_string());
}

#[test]
fn python_imports_register_names_keep_user_lines_and_refuse_what_they_cannot_merge() {
    let t = Test::new();
    let skills = t.dir.path().join("skills-set");
    registering_skill(&skills);
    let dir = skills.to_str().unwrap();
    let run = |name: &str, code: i32| {
        let input = serde_json::json!({"projectPath": t.project(), "name": name}).to_string();
        Test::new().args(["--skills-dir", dir, "run", "greeting-file", "--json", "--input", &input]).run().code(code)
    };
    // Missing: created.
    let json = run("BlogPost", 0).json();
    assert_eq!(t.read("pkg/__init__.py"), "from pkg.blog_post import BlogPost\n\n__all__ = [\n    \"BlogPost\",\n]\n");
    assert!(json["files"].as_array().unwrap().iter().any(|f| f["path"] == "pkg/blog_post.py"), "{json}");
    // The user's own lines stay; a second name is added in order; a re-run changes nothing.
    let edited = format!("# my package\n{}\nVERSION = \"1\"  # mine\n", t.read("pkg/__init__.py"));
    t.write("pkg/__init__.py", &edited);
    run("Author", 0);
    let two = t.read("pkg/__init__.py");
    assert_eq!(
        two,
        "# my package\nfrom pkg.author import Author\nfrom pkg.blog_post import BlogPost\n\n__all__ = [\n    \"Author\",\n    \"BlogPost\",\n]\n\nVERSION = \"1\"  # mine\n"
    );
    let again = run("Author", 0).json();
    let init = again["files"].as_array().unwrap().iter().find(|f| f["path"] == "pkg/__init__.py").unwrap().clone();
    assert_eq!(init["action"], "unchanged", "{again}");
    assert_eq!(t.read("pkg/__init__.py"), two);
    // An `__all__` built at run time: a conflict with the reason, in Korean too, nothing written.
    t.write("pkg/__init__.py", "from pkg.author import Author\n__all__ = [n for n in dir() if n[0].isupper()]\n");
    let json = run("Comment", 3).json();
    let init = json["files"].as_array().unwrap().iter().find(|f| f["path"] == "pkg/__init__.py").unwrap().clone();
    assert_eq!(init["action"], "conflict");
    assert!(init["reason"].as_str().unwrap().contains("`__all__` is built at run time (line 2)"), "{init}");
    assert!(!t.project().join("pkg/comment.py").exists());
    let input = serde_json::json!({"projectPath": t.project(), "name": "Comment"}).to_string();
    let ko = Test::new()
        .args(["--skills-dir", dir, "run", "greeting-file", "--json", "--lang", "ko", "--input", &input])
        .run()
        .code(3)
        .json();
    let init = ko["files"].as_array().unwrap().iter().find(|f| f["path"] == "pkg/__init__.py").unwrap().clone();
    assert!(init["reason"].as_str().unwrap().contains("실행 중에 만들어져(2번째 줄)"), "{init}");
}

/// A third skill set, synthetic: `kitchen-sink` uses every step kind and requires `base-files`,
/// taking `flavor` from its answers. No engine change is needed for either.
fn composed_set(root: &std::path::Path) {
    let entry = |id: &str, phrase: &str| {
        serde_json::json!({"id": id, "version": "0.1.0", "title": {"en": id, "ko": id},
            "description": {"en": format!("The {id} skill."), "ko": format!("{id} 스킬.")},
            "triggers": {"en": [phrase], "ko": [phrase]}, "inputSchema": format!("schemas/{id}.json"), "dir": format!("skills/{id}")})
    };
    let manifest = serde_json::json!({"skills": [entry("base-files", "lay the base files"), entry("kitchen-sink", "add the kitchen sink")]});
    write(root, "manifest.json", &manifest.to_string());
    write(
        root,
        "schemas/base-files.json",
        r#"{"type": "object", "properties": {"dir": {"type": "string", "x-project-dir": true}, "flavor": {"enum": ["plain", "fancy"]}},
        "required": ["dir", "flavor"], "additionalProperties": false}"#,
    );
    write(
        root,
        "schemas/kitchen-sink.json",
        r#"{"type": "object", "properties": {"dir": {"type": "string", "x-project-dir": true}, "name": {"type": "string", "pattern": "^[A-Z][a-z]+$"},
        "flavor": {"enum": ["plain", "fancy"]}}, "required": ["dir", "name"], "additionalProperties": false}"#,
    );
    for id in ["base-files", "kitchen-sink"] {
        write(root, &format!("skills/{id}/SKILL.md"), &format!("---\nname: {id}\ndescription: The {id} skill.\n---\n"));
    }
    write(
        root,
        "skills/base-files/skill.json",
        r#"{"steps": [{"kind": "render", "path": "base.txt", "template": "templates/base.tera"}]}"#,
    );
    write(root, "skills/base-files/templates/base.tera", "{{ flavor }}\n");
    let steps = serde_json::json!({
        "requires": [{"skill": "base-files", "files": ["base.txt"], "inputs": {"flavor": "flavor"}}],
        "steps": [
            {"kind": "render", "path": "pkg/{{ name | snake_case }}.py", "template": "templates/module.tera", "vars": {"about": "one module"}},
            {"kind": "render", "path": "pkg/keep.txt", "template": "templates/module.tera", "ifExists": "keep", "vars": {"about": "kept"}},
            {"kind": "render", "path": "fancy.txt", "template": "templates/module.tera", "vars": {"about": "fancy"}, "when": {"flavor": ["fancy"]}},
            {"kind": "env-file", "path": ".env.example", "set": {"NAME": "{{ name }}"}},
            {"kind": "lines", "path": ".gitignore", "lines": ["*.pyc"]},
            {"kind": "python-dependencies", "packages": ["attrs>=23"], "byField": {"flavor": {"fancy": ["rich>=13"]}}},
            {"kind": "python-imports", "path": "pkg/__init__.py", "template": "templates/init.tera",
             "imports": ["from pkg.{{ name | snake_case }} import {{ name }}"], "all": ["{{ name }}"]}
        ],
        "commands": [{"run": "python -c 'import pkg.{{ name | snake_case }}'"}]
    });
    write(root, "skills/kitchen-sink/skill.json", &steps.to_string());
    write(root, "skills/kitchen-sink/templates/module.tera", "\"\"\"{{ about }}: {{ name }} ({{ flavor }}).\"\"\"\n");
    write(
        root,
        "skills/kitchen-sink/templates/init.tera",
        "\"\"\"The package.\"\"\"\n\n__all__ = [\n    \"VERSION\",\n]\n\nVERSION = \"1\"\n",
    );
}

/// `skillrun --skills-dir DIR run SKILL --json --input INPUT`, exiting with `code`: its report.
fn run_json(dir: &str, skill: &str, input: &serde_json::Value, code: i32) -> serde_json::Value {
    Test::new()
        .args(["--skills-dir", dir, "run", skill, "--json", "--input", &input.to_string()])
        .run()
        .code(code)
        .json()
}

#[test]
fn a_third_skill_uses_every_step_kind_and_requires_another_as_data_only() {
    let t = Test::new();
    let skills = t.dir.path().join("skills-set");
    composed_set(&skills);
    let dir = skills.to_str().unwrap();
    let run = |skill: &str, input: serde_json::Value, code: i32| run_json(dir, skill, &input, code);
    let sink = serde_json::json!({"dir": t.project(), "name": "Widget"});
    let refused = run("kitchen-sink", sink.clone(), 2);
    assert_eq!(refused["requires"][0]["skill"], "base-files", "{refused}");
    assert_eq!(refused["requires"][0]["inputs"], serde_json::json!(["dir", "flavor"]));
    run("base-files", serde_json::json!({"dir": t.project(), "flavor": "fancy"}), 0);
    let report = run("kitchen-sink", sink.clone(), 0);
    assert_eq!(report["notes"][0], "flavor \"fancy\" was taken from base-files's answers", "{report}");
    assert_eq!(t.read("pkg/widget.py"), "\"\"\"one module: Widget (fancy).\"\"\"\n");
    assert_eq!(t.read("fancy.txt"), "\"\"\"fancy: Widget (fancy).\"\"\"\n");
    assert_eq!(t.read(".env.example"), "NAME=Widget\n");
    assert_eq!(t.read(".gitignore"), "*.pyc\n");
    assert_eq!(t.read("requirements.txt"), "attrs>=23\nrich>=13\n");
    assert_eq!(
        t.read("pkg/__init__.py"),
        "\"\"\"The package.\"\"\"\n\nfrom pkg.widget import Widget\n\n__all__ = [\n    \"VERSION\",\n    \"Widget\",\n]\n\nVERSION = \"1\"\n"
    );
    assert_eq!(report["commands"][0], "python -c 'import pkg.widget'");
    let again = run("kitchen-sink", sink, 0);
    assert!(again["files"].as_array().unwrap().iter().all(|f| f["action"] == "unchanged"), "{again}");
}

/// A skill publishes a value it decided (`publish`, recorded in its answers); a skill that requires
/// it reads it back (`requires[].values`) for its paths, with no engine knowledge of either. A
/// value the required skill does not publish is refused when the skill that requires it is used.
#[test]
fn a_published_value_reaches_the_skill_that_builds_on_it() {
    let t = Test::new();
    let skills = t.dir.path().join("skills-set");
    composed_set(&skills);
    write(
        &skills,
        "skills/base-files/skill.json",
        r#"{"let": [{"name": "home", "value": "{{ flavor }}-home"}], "publish": ["home"],
        "steps": [{"kind": "render", "path": "{{ home }}/base.txt", "template": "templates/base.tera"}]}"#,
    );
    let sink = |values: &str| {
        format!(
            r#"{{"requires": [{{"skill": "base-files", "files": ["{{{{ home }}}}/base.txt"], "inputs": {{"flavor": "flavor"}}, "values": {values}}}],
            "steps": [{{"kind": "render", "path": "{{{{ home }}}}/sink.txt", "template": "templates/module.tera", "vars": {{"about": "sink"}}}}]}}"#
        )
    };
    write(&skills, "skills/kitchen-sink/skill.json", &sink(r#"{"home": "home"}"#));
    let dir = skills.to_str().unwrap();
    let run = |skill: &str, input: serde_json::Value, code: i32| run_json(dir, skill, &input, code);
    run("base-files", serde_json::json!({"dir": t.project(), "flavor": "fancy"}), 0);
    assert_eq!(t.read("fancy-home/base.txt"), "fancy\n");
    let answers: serde_json::Value = serde_json::from_str(&t.read(".skillrun/answers.json")).unwrap();
    assert_eq!(answers["skills"]["base-files"]["values"], serde_json::json!({"home": "fancy-home"}), "{answers}");
    run("kitchen-sink", serde_json::json!({"dir": t.project(), "name": "Widget"}), 0);
    assert_eq!(t.read("fancy-home/sink.txt"), "\"\"\"sink: Widget (fancy).\"\"\"\n");

    write(&skills, "skills/kitchen-sink/skill.json", &sink(r#"{"home": "nowhere"}"#));
    let unpublished =
        "skills/kitchen-sink/skill.json: requires value `nowhere` of skill `base-files`, which it does not publish";
    for command in [&["show", "kitchen-sink"][..], &["check"]] {
        let ran = Test::new().args(["--skills-dir", dir]).args(command).run().code(1);
        assert!(ran.stderr.contains(unpublished), "{command:?}: {}", ran.stderr);
    }
    run_json(dir, "base-files", &serde_json::json!({"dir": t.project(), "flavor": "plain"}), 0);
}
