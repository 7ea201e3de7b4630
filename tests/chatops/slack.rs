//! Slack and Mattermost through the binary: a signed slash command is acknowledged at once and
//! the plan arrives at a loopback stand-in for `response_url` with its buttons; a signed
//! `block_actions` press applies it; unsigned, replayed and other people's presses are refused.
//! Mattermost's token-checked command and signed button contexts the same way.

use serde_json::{Value, json};

use super::{Inbox, Redis, TOKEN, root_of};
use crate::support::{Answer, Server};

const SECRET: &str = "slack-signing-secret-for-chatops-tests";

fn now() -> String {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string()
}

/// A request as Slack sends it: form body, timestamp and signature.
struct Signed {
    body: String,
    timestamp: String,
    signature: String,
}

fn signed(body: String, secret: &str) -> Signed {
    let timestamp = now();
    let signature = skillrun::http::slack::sign(secret, &timestamp, body.as_bytes());
    Signed { body, timestamp, signature }
}

fn post(server: &Server, path: &str, request: &Signed) -> Answer {
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("x-slack-request-timestamp", request.timestamp.as_str()),
        ("x-slack-signature", request.signature.as_str()),
    ];
    server.post_raw(path, &headers, request.body.as_bytes())
}

fn command(text: &str, user: &str, response_url: &str) -> String {
    serde_urlencoded::to_string([
        ("command", "/skillrun"),
        ("text", text),
        ("user_id", user),
        ("team_id", "T1"),
        ("channel_id", "C1"),
        ("response_url", response_url),
        ("trigger_id", &uuid::Uuid::new_v4().to_string()),
    ])
    .unwrap()
}

/// A `block_actions` payload: `user` pressed the button `action_id` of `message`.
fn press(message: &Value, action_id: &str, user: &str, response_url: &str) -> String {
    let buttons = message["blocks"][1]["elements"].as_array().expect("buttons under the plan");
    let button = buttons.iter().find(|b| b["action_id"] == action_id).expect("the button");
    let payload = json!({
        "type": "block_actions",
        "user": {"id": user, "team_id": "T1"},
        "team": {"id": "T1"},
        "channel": {"id": "C1"},
        "response_url": response_url,
        "trigger_id": uuid::Uuid::new_v4().to_string(),
        "actions": [{"action_id": action_id, "block_id": "skillrun-plan", "value": button["value"], "type": "button"}],
    });
    serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap()
}

#[test]
fn a_slack_command_is_acknowledged_and_its_plan_applied_by_its_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = root_of(dir.path());
    let server = Server::start(&["--root", root.to_str().unwrap()], TOKEN, &[("SLACK_SIGNING_SECRET", SECRET)]);
    let inbox = Inbox::start();
    let project = root.join("slack-api");
    let text = format!("DB 설정 해줘 {} sqlite:///./app.db", project.display());

    let ack = post(&server, "/v1/slack", &signed(command(&text, "U1", &inbox.url), SECRET));
    assert_eq!((ack.status, ack.body.as_str()), (200, ""), "an empty acknowledgement");
    let plan = inbox.message(0);
    assert_eq!(plan["response_type"], "ephemeral", "{plan}");
    assert!(plan["blocks"][0]["text"]["text"].as_str().unwrap().contains("alembic.ini"), "{plan}");
    let labels: Vec<&str> =
        plan["blocks"][1]["elements"].as_array().unwrap().iter().map(|b| b["text"]["text"].as_str().unwrap()).collect();
    assert_eq!(labels, ["적용", "미리보기만", "취소"], "Korean buttons for a Korean conversation");
    assert!(plan["blocks"][1]["elements"][0]["confirm"]["title"].is_object(), "apply asks for confirmation");

    // Unsigned, wrongly signed: refused, nothing posted, nothing written.
    let apply = press(&plan, "apply", "U1", &inbox.url);
    assert_eq!(server.post_raw("/v1/slack/interactive", &[], apply.as_bytes()).status, 401);
    assert_eq!(post(&server, "/v1/slack/interactive", &signed(apply.clone(), "wrong-secret")).status, 401);
    // Someone else in the channel presses apply: told no, nothing written.
    let other = post(&server, "/v1/slack/interactive", &signed(press(&plan, "apply", "U2", &inbox.url), SECRET));
    assert_eq!(other.status, 200);
    let refused = inbox.message(1);
    assert_eq!(refused["replace_original"], false, "{refused}");
    assert!(refused["text"].as_str().unwrap().contains("<@U1>"), "{refused}");
    assert!(!project.exists());

    // The owner presses apply: the plan's message becomes the result.
    let pressed = signed(apply, SECRET);
    assert_eq!(post(&server, "/v1/slack/interactive", &pressed).status, 200);
    let done = inbox.message(2);
    assert_eq!(done["replace_original"], true, "{done}");
    assert!(done["text"].as_str().unwrap().contains("alembic upgrade head"), "{done}");
    assert!(done["blocks"].as_array().unwrap().len() == 1, "no buttons under a result: {done}");
    assert!(project.join("alembic.ini").is_file());

    // The same signed press again (a replay): refused, and nothing more happens.
    let replay = post(&server, "/v1/slack/interactive", &pressed);
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert!(replay.body.contains("replay"), "{}", replay.body);
    // A fresh, signed press of the old plan's button: nothing in progress, nothing applied.
    post(&server, "/v1/slack/interactive", &signed(press(&plan, "apply", "U1", &inbox.url), SECRET));
    let late = inbox.message(3);
    assert!(late["text"].as_str().unwrap().contains("진행 중인 대화가 없습니다"), "{late}");
    assert_eq!(inbox.count(), 4);
}

#[test]
fn slack_dry_run_only_and_cancel_write_nothing_and_a_replay_is_refused_on_another_replica() {
    let Some(redis) = Redis::machine() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = root_of(dir.path());
    let env = [("SLACK_SIGNING_SECRET", SECRET)];
    let (a, b) = (redis.replica(&root, &[], &env), redis.replica(&root, &[], &env));
    let inbox = Inbox::start();
    let project = root.join("dry");
    let text = format!("set up the database in {} with sqlite:///./app.db", project.display());
    let first = signed(command(&text, "U1", &inbox.url), SECRET);
    assert_eq!(post(&a, "/v1/slack", &first).status, 200);
    // The same request to the other replica: a replay.
    assert_eq!(post(&b, "/v1/slack", &first).status, 401);
    let plan = inbox.message(0);
    let labels: Vec<&str> =
        plan["blocks"][1]["elements"].as_array().unwrap().iter().map(|b| b["text"]["text"].as_str().unwrap()).collect();
    assert_eq!(labels, ["Apply", "Dry run only", "Cancel"]);
    // "Dry run only", pressed on the other replica: the conversation ends, nothing is written.
    assert_eq!(
        post(&b, "/v1/slack/interactive", &signed(press(&plan, "dry-run", "U1", &inbox.url), SECRET)).status,
        200
    );
    assert!(inbox.message(1)["text"].as_str().unwrap().contains("Dry run only"), "{}", inbox.message(1));
    assert!(!project.exists());
    // A new plan, cancelled.
    assert_eq!(post(&b, "/v1/slack", &signed(command(&text, "U1", &inbox.url), SECRET)).status, 200);
    let plan = inbox.message(2);
    post(&a, "/v1/slack/interactive", &signed(press(&plan, "cancel", "U1", &inbox.url), SECRET));
    assert!(inbox.message(3)["text"].as_str().unwrap().contains("Cancelled"), "{}", inbox.message(3));
    assert!(!project.exists());
}

const MM_TOKEN: &str = "mattermost-command-token-for-tests";

fn mm_command(server: &Server, token: &str, user: &str, text: &str, trigger: &str) -> Answer {
    let body = serde_urlencoded::to_string([
        ("token", token),
        ("team_id", "team1"),
        ("channel_id", "chan1"),
        ("user_id", user),
        ("command", "/skillrun"),
        ("text", text),
        ("trigger_id", trigger),
    ])
    .unwrap();
    server.post_raw("/v1/mattermost", &[("content-type", "application/x-www-form-urlencoded")], body.as_bytes())
}

/// The callback Mattermost makes when `user` presses the button `id` of a command's answer.
fn mm_press(server: &Server, answer: &Value, id: &str, user: &str, tamper: bool) -> Answer {
    let actions = answer["attachments"][0]["actions"].as_array().expect("buttons under the plan");
    let action = actions.iter().find(|a| a["id"] == id).expect("the button");
    let url = action["integration"]["url"].as_str().unwrap();
    assert!(url.ends_with("/v1/mattermost/actions"), "{url}");
    let mut context = action["integration"]["context"].clone();
    if tamper {
        context["user"] = json!(user);
    }
    let body = json!({"user_id": user, "channel_id": "chan1", "team_id": "team1", "post_id": "p1", "type": "", "context": context});
    server.post_raw("/v1/mattermost/actions", &[("content-type", "application/json")], body.to_string().as_bytes())
}

#[test]
fn mattermost_commands_need_the_token_and_buttons_apply_for_their_owner_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = root_of(dir.path());
    let server = Server::start(&["--root", root.to_str().unwrap()], TOKEN, &[("MATTERMOST_TOKEN", MM_TOKEN)]);
    let project = root.join("mm-api");
    let text = format!("set up the database in {} with sqlite:///./app.db", project.display());
    assert_eq!(mm_command(&server, "wrong-token", "u1", &text, "t0").status, 401);
    let answer = mm_command(&server, MM_TOKEN, "u1", &text, "t1");
    assert_eq!(answer.status, 200, "{}", answer.body);
    // The same command delivered again (same trigger_id): refused.
    assert_eq!(mm_command(&server, MM_TOKEN, "u1", &text, "t1").status, 401);
    let answer = answer.json();
    assert!(answer["text"].as_str().unwrap().contains("Go ahead?"), "{answer}");
    let names: Vec<&str> =
        answer["attachments"][0]["actions"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Apply", "Dry run only", "Cancel"]);

    // A context changed to another user fails its signature; another user's press is told no.
    assert_eq!(mm_press(&server, &answer, "apply", "u2", true).status, 401);
    let other = mm_press(&server, &answer, "apply", "u2", false);
    assert_eq!(other.status, 200);
    assert!(other.json()["ephemeral_text"].as_str().unwrap().contains("Only the person"), "{}", other.body);
    assert!(!project.exists());
    let applied = mm_press(&server, &answer, "apply", "u1", false);
    assert_eq!(applied.status, 200, "{}", applied.body);
    let update = applied.json();
    assert!(update["update"]["message"].as_str().unwrap().contains("alembic upgrade head"), "{update}");
    assert!(project.join("alembic.ini").is_file());
    // The same press again: a replay, refused.
    assert_eq!(mm_press(&server, &answer, "apply", "u1", false).status, 401);
    // Mattermost off: its routes answer 404.
    let off = Server::start(&["--root", root.to_str().unwrap()], TOKEN, &[("MATTERMOST_TOKEN", "")]);
    assert_eq!(mm_command(&off, MM_TOKEN, "u1", &text, "t2").status, 404);
}
