//! The engine's messages in Korean.

use super::{Messages, TypeName, UrlPart};

pub struct Ko;

/// Whether a Korean word ends in a vowel (its last syllable has no final consonant).
fn ends_in_vowel(word: &str) -> bool {
    word.chars().last().is_some_and(|c| ('가'..='힣').contains(&c) && (c as u32 - 0xAC00).is_multiple_of(28))
}

fn part_name(part: UrlPart) -> &'static str {
    match part {
        UrlPart::Host => "호스트",
        UrlPart::Database => "데이터베이스 이름",
        UrlPart::Query => "쿼리",
        UrlPart::Path => "경로",
        UrlPart::User => "사용자 이름",
        UrlPart::Password => "비밀번호",
    }
}

impl Messages for Ko {
    fn chat_ambiguous(&self, skills: &str) -> String {
        format!("여러 스킬이 비슷하게 맞습니다: {skills}. 어느 것인지 알려 주세요.")
    }
    fn chat_ready(&self, title: &str) -> String {
        format!("{title}: 필요한 입력이 모두 있습니다. 실행할 수 있습니다.")
    }
    fn chat_question(&self, topic: &str, skill: &str, about: &str, example: &str) -> String {
        format!(
            "{topic}에 대한 질문으로 보여 아무것도 실행하지 않았습니다. {skill}: {about} 실행하려면 예: \"{example}\""
        )
    }
    fn chat_near_miss(&self, skill: &str, about: &str, example: &str) -> String {
        format!("요청에 맞는 스킬이 없습니다. {skill}을(를) 찾으셨나요? {about} 실행하려면 예: \"{example}\"")
    }
    fn chat_no_match(&self, example: &str) -> String {
        format!("어떤 스킬에도 해당하지 않습니다. 예: \"{example}\"")
    }
    fn ask_field(&self, field: &str, hint: &str) -> String {
        format!("{field}을(를) 알려 주세요 ({hint}).")
    }

    fn input_not_object(&self, project_field: &str) -> String {
        format!("입력은 JSON 객체여야 합니다. 예: {{\"{project_field}\": \".\"}}")
    }
    fn input_url_rewritten(&self, field: &str, from: &str, to: &str) -> String {
        format!("{field}의 {from}를 비동기 드라이버 {to}://로 바꿨습니다")
    }
    fn input_type_from_url(&self, field: &str, kind: &str) -> String {
        format!("{field}을(를) URL에서 \"{kind}\"(으)로 정했습니다")
    }
    fn input_enum_read_as(&self, field: &str, given: &str, value: &str) -> String {
        format!("{field} \"{given}\"을(를) \"{value}\"로 읽었습니다")
    }
    fn input_required(&self) -> String {
        "필수 항목이 없습니다".into()
    }
    fn input_unknown_field(&self, suggestion: Option<&str>, known: &str) -> String {
        match suggestion {
            Some(s) => format!("알 수 없는 항목입니다. \"{s}\"를 뜻했다면 이름을 고치세요 (허용: {known})"),
            None => format!("알 수 없는 항목입니다. 지우세요 (허용: {known})"),
        }
    }
    fn input_wrong_type(&self, expected: TypeName<'_>) -> String {
        let korean = match expected {
            "string" => "문자열",
            "number" => "숫자",
            "integer" => "정수",
            "boolean" => "true/false 값",
            "object" => "JSON 객체",
            "array" => "배열",
            other => other,
        };
        // 이어야 after a final consonant (문자열이어야), 여야 after a vowel (숫자여야).
        format!("{korean}{} 합니다", if ends_in_vowel(korean) { "여야" } else { "이어야" })
    }
    fn input_not_one_of(&self, options: &str) -> String {
        format!("{options} 중 하나여야 합니다")
    }
    fn input_empty(&self) -> String {
        "비어 있으면 안 됩니다".into()
    }
    fn input_too_long(&self, limit: u64) -> String {
        format!("{limit}자보다 깁니다")
    }
    fn input_pattern(&self, pattern: &str) -> String {
        format!("형식이 맞지 않습니다 (패턴 {pattern})")
    }
    fn input_with_hint(&self, what: &str, hint: &str) -> String {
        format!("{what}. {hint}")
    }

    fn url_dollar_brace(&self) -> String {
        "`${`가 들어 있습니다. .env를 읽는 도구가 변수로 바꿔 버리니 데이터베이스 이름·경로·쿼리에서 빼거나 `$`를 `%24`로 쓰세요".into()
    }
    fn url_no_scheme(&self) -> String {
        "데이터베이스 URL이 아닙니다 (`scheme://` 없음). 예: `postgresql://user:password@localhost:5432/app` 또는 `sqlite:///./app.db` 형식으로 쓰세요".into()
    }
    fn url_bad_scheme(&self) -> String {
        "스킴(`postgresql://`, `mysql://`, `sqlite://`)으로 시작하지 않습니다. 예: `postgresql://user:password@localhost:5432/app` 형식으로 쓰세요".into()
    }
    fn url_two_schemes(&self) -> String {
        "`://`가 두 번 들어 있습니다. URL 하나만 쓰고, 비밀번호의 `:`와 `/`는 퍼센트 인코딩하세요 (`%3A`, `%2F`)".into()
    }
    fn url_unsupported(&self, scheme: &str, kinds: &str) -> String {
        format!("`{scheme}://`는 지원하지 않는 URL입니다. {kinds} URL을 쓰세요")
    }
    fn url_type_mismatch(&self, given: &str, url_field: &str, kind: &str, type_field: &str) -> String {
        format!(
            "\"{given}\"이지만 {url_field}은 {kind} URL입니다. {type_field}을 \"{kind}\"로 바꾸거나 생략하세요 (URL에서 정해집니다), 또는 {given} URL을 쓰세요"
        )
    }
    fn url_escaped_name(&self, part: UrlPart) -> String {
        let part = if part == UrlPart::Path { "경로" } else { "데이터베이스 이름" };
        format!(
            "{part}에 퍼센트 이스케이프(`%XX`)가 있습니다. SQLAlchemy 2.0은 그대로, 2.1은 풀어서 읽으니 문자를 그대로 쓰거나 이름을 바꾸세요"
        )
    }
    fn url_file_host(&self, scheme: &str) -> String {
        format!(
            "파일 데이터베이스 URL에 호스트가 있습니다. 상대 경로는 슬래시 세 개(`{scheme}:///./app.db`), 절대 경로는 네 개(`{scheme}:////data/app.db`)로 쓰세요"
        )
    }
    fn url_file_secret(&self) -> String {
        "비밀번호나 비밀 값으로 읽히는 부분이 있습니다. 파일 데이터베이스는 쓰지 않으니 지우세요".into()
    }
    fn url_unreadable(&self, scheme: &str) -> String {
        format!("URL을 읽을 수 없습니다. `{scheme}://user:password@host:port/database` 형식이어야 합니다")
    }
    fn url_space(&self, part: UrlPart) -> String {
        let part = part_name(part);
        format!("{part}에 공백이나 제어 문자가 있습니다. 지우거나 퍼센트 인코딩하세요 (공백은 `%20`)")
    }
    fn url_bad_port(&self) -> String {
        "포트가 올바른 포트 번호(1-65535)가 아닙니다. 예: `localhost:5432`. 호스트 앞에 사용자 이름과 비밀번호가 있다면 `@`로 끝내세요".into()
    }
    fn url_no_database(&self, scheme: &str) -> String {
        format!("데이터베이스 이름이 없습니다. 호스트 뒤에 붙이세요. 예: `{scheme}://user:password@localhost:3306/app`")
    }
    fn url_not_utf8(&self, part: UrlPart) -> String {
        let part = part_name(part);
        format!("{part}의 퍼센트 이스케이프가 UTF-8 텍스트가 아닙니다. SQLAlchemy가 `\u{FFFD}`로 읽게 됩니다")
    }
    fn url_ambiguous(&self, quoted: &str, fixes: &str) -> String {
        format!(
            "URL을 두 가지 이상으로 읽을 수 있어 추측하지 않습니다: {quoted}가 비밀번호의 일부인지 URL의 구분자인지 알 수 없습니다. 비밀번호·사용자 이름·데이터베이스 이름·쿼리 값 안의 것은 퍼센트 인코딩하세요 ({fixes}). 그대로 두는 `@`는 호스트 바로 앞의 하나뿐이어야 합니다"
        )
    }

    fn journal_waiting(&self) -> String {
        "중단된 이전 실행의 저널(.skillrun/journal)이 있습니다. --dry-run 없이 실행하면 먼저 그것을 확인해 프로젝트를 이전 상태로 되돌립니다".into()
    }
    fn project_is_file(&self, path: &str) -> String {
        format!("{path}은(는) 파일입니다. 프로젝트 디렉터리를 지정하세요")
    }
    fn project_missing(&self, path: &str) -> String {
        format!("{path}도 그 상위 디렉터리도 없습니다. 경로를 확인하거나 상위 디렉터리를 먼저 만드세요 (mkdir -p)")
    }
    fn project_outside(&self, roots: &str) -> String {
        format!("허용된 디렉터리 밖입니다. 다음 디렉터리 안의 경로를 지정하세요: {roots}")
    }
    fn project_unusable(&self, error: &str) -> String {
        format!("프로젝트 디렉터리를 열 수 없습니다: {error}")
    }
    fn project_not_writable(&self, path: &str) -> String {
        format!("{path}에 쓸 권한이 없습니다. 쓰기 권한을 주거나 다른 디렉터리를 지정하세요")
    }
    fn recovered_rolled_back(&self, files: usize) -> String {
        format!("중단된 이전 실행을 되돌렸습니다 (파일 {files}개 복원). 그 다음에 이번 실행을 했습니다")
    }
    fn recovered_cleaned_up(&self) -> String {
        "이전 실행이 남긴 저널을 정리했습니다".into()
    }

    fn plan_class_field(&self, class: &str, line: &str) -> String {
        format!("클래스 {class}에 `{line}` 추가")
    }
    fn plan_raised(&self, path: &str, name: &str, from: &str, to: &str) -> String {
        format!("{path}: {name} {from} -> {to} (생성된 코드에 필요한 버전으로 올림)")
    }
    fn plan_skipped(&self) -> String {
        "건너뜀 (--skip-existing)".into()
    }
    fn plan_kept(&self) -> String {
        "이미 있어 그대로 둡니다".into()
    }
    fn plan_ours_updated(&self) -> String {
        "이 스킬이 만든 뒤 수정되지 않은 파일이라 갱신합니다".into()
    }
    fn plan_forced(&self) -> String {
        "덮어씀 (--force), 이전 파일은 백업됨".into()
    }
    fn plan_differs(&self) -> String {
        "다른 내용으로 이미 있습니다. 확인한 뒤 --force로 다시 실행하면 교체합니다 (백업 보관)".into()
    }
    fn plan_unmergeable(&self, problem: &str) -> String {
        format!("병합할 수 없습니다: {problem}. 고친 뒤 다시 실행하세요")
    }
    fn plan_not_utf8(&self) -> String {
        "UTF-8 텍스트가 아니라 병합할 수 없습니다. UTF-8로 바꾼 뒤 다시 실행하세요".into()
    }
    fn plan_env_conflict(&self, keys: &str) -> String {
        format!("{keys}가 이미 다른 값으로 설정되어 있습니다. 직접 고치거나 --force로 다시 실행하세요 (백업 보관)")
    }
    fn plan_env_forced(&self) -> String {
        "값 교체 (--force), 이전 파일은 백업됨".into()
    }
    fn plan_statement_replaced(&self, name: &str, old: &str, statement: &str) -> String {
        format!("`{name} = {old}`을(를) `{statement}`(으)로 바꿈")
    }
    fn plan_statement_after(&self, anchor: &str, statement: &str) -> String {
        format!("`{anchor}` 뒤에 `{statement}` 추가")
    }
    fn plan_statement_added(&self, statement: &str) -> String {
        format!("`{statement}` 추가")
    }

    fn py_not_a_name(&self, name: &str) -> String {
        format!("`{name}`은(는) 파이썬 이름이 아니라 `__all__`에 넣을 수 없습니다")
    }
    fn py_not_an_import(&self, line: &str) -> String {
        format!("`{line}`은(는) 한 줄짜리 `from module import name` 또는 `import module` 문이 아닙니다")
    }
    fn py_unclosed(&self, string: bool, line: usize) -> String {
        let what = if string { "문자열" } else { "괄호" };
        format!("파이썬으로 읽을 수 없습니다: {line}번째 줄에서 연 {what}이(가) 닫히지 않습니다")
    }
    fn py_name_taken(&self, name: &str, from: &str, line: usize, module: &str) -> String {
        format!(
            "`{name}`이(가) 이미 `{from}`에서 import되어 있습니다 ({line}번째 줄). 스킬은 `{module}`에서 가져오려 합니다. 둘 중 하나의 이름을 바꾼 뒤 다시 실행하세요"
        )
    }
    fn py_all_dynamic(&self, line: usize, names: &str) -> String {
        format!(
            "`__all__`이(가) 실행 중에 만들어져({line}번째 줄) 스킬이 {names}을(를) 안전하게 추가할 수 없습니다. 직접 추가하거나 `__all__`을 이름 목록으로 바꾸세요"
        )
    }
    fn py_all_commented(&self, line: usize, names: &str) -> String {
        format!(
            "`__all__`({line}번째 줄)에 주석과 한 줄에 여러 이름이 있어 스킬이 {names}을(를) 옮기지 않고는 추가할 수 없습니다. 직접 추가하세요"
        )
    }
    fn py_assigned_several(&self, name: &str, lines: &str) -> String {
        format!("`{name}`이(가) 최상위에서 여러 번 대입되어({lines}번째 줄) 어느 것이 쓰이는지 분명하지 않습니다")
    }
    fn py_statement_no_file(&self, statement: &str) -> String {
        format!("파일이 없습니다. `{statement}`을(를) 직접 추가하세요")
    }
    fn py_statement_no_assignment(&self, name: &str, statement: &str) -> String {
        format!("바꿀 최상위 `{name} = ...` 대입이 없습니다. `{statement}`을(를) 직접 추가하세요")
    }
    fn py_statement_several(&self, name: &str, lines: &str, statement: &str) -> String {
        format!("{} `{statement}`을(를) 직접 추가하세요", self.py_assigned_several(name, lines))
    }
    fn py_statement_no_anchor(&self, anchor: &str, statement: &str) -> String {
        format!("그 뒤에 넣을 최상위 `{anchor}`이(가) 없습니다. `{statement}`을(를) 직접 추가하세요")
    }

    fn git_tracked(&self, rel: &str) -> String {
        format!(
            "git이 추적하는 파일이라 비밀번호가 커밋됩니다. 추적을 끊은 뒤(`git rm --cached {rel}`) 다시 실행하세요"
        )
    }
    fn git_reincluded(&self, rel: &str, pattern: &str, source: &str, line: usize) -> String {
        format!(
            "git이 이 파일을 커밋하게 되어 비밀번호가 새어 나갑니다: {source}의 {line}번째 줄 `{pattern}`가 무시를 취소합니다. 그 줄을 지우거나 그 뒤에 `{rel}`을 무시하는 줄을 둔 뒤 다시 실행하세요"
        )
    }
    fn git_not_ignored(&self, rel: &str) -> String {
        format!(
            "git이 이 파일을 커밋하게 되어 비밀번호가 새어 나갑니다: 이 파일을 무시하는 규칙이 없습니다. .gitignore에 `{rel}`을 추가한 뒤 다시 실행하세요"
        )
    }
    fn git_unknown(&self, rel: &str, why: &str) -> String {
        format!(
            "git이 이 파일을 커밋할지 알 수 없습니다 ({why}). 원인을 고치거나 `git check-ignore -v {rel}`로 확인한 뒤 다시 실행하세요"
        )
    }

    fn requires_taken(&self, field: &str, value: &str, skill: &str) -> String {
        format!("{field} {value}을(를) {skill}의 답변에서 가져왔습니다")
    }
    fn requires_unmet(&self, me: &str, need: &str, missing: &str, project_field: &str, inputs: &str) -> String {
        format!(
            "{me}은(는) 이 프로젝트에 {need}이(가) 먼저 적용되어 있어야 합니다 (없음: {missing}). 같은 {project_field}에 {need}을(를) 먼저 실행하고 (입력: {inputs}) {me}을(를) 다시 실행하세요"
        )
    }

    fn next_heading(&self) -> String {
        "다음 명령".into()
    }
    fn report_nothing_to_do(&self, skill: &str, unchanged: usize) -> String {
        format!("{skill}: 바뀐 것이 없습니다. 모든 파일이 이미 최신입니다 ({unchanged}개 그대로).")
    }
    fn report_applied(
        &self,
        skill: &str,
        [created, updated, unchanged, skipped]: [usize; 4],
        next: Option<&str>,
    ) -> String {
        let next = next.map(|c| format!(" 다음: {c}")).unwrap_or_default();
        format!("{skill}: 파일 {created}개 생성, {updated}개 수정, {unchanged}개 그대로, {skipped}개 건너뜀.{next}")
    }
    fn report_dry_run(&self, [created, updated, unchanged, skipped, conflict]: [usize; 5]) -> String {
        format!(
            "미리보기: 파일 {created}개 생성, {updated}개 수정, {unchanged}개 그대로, {skipped}개 건너뜀, 충돌 {conflict}개 예정. 아무것도 쓰지 않았습니다."
        )
    }
    fn report_conflict(&self, _skill: &str, conflicts: usize, paths: &str, backups: &str) -> String {
        format!(
            "아무것도 쓰지 않았습니다: {conflicts}개 파일이 생성될 내용과 다릅니다 ({paths}). 확인한 뒤 --force로 다시 실행하면 교체하며, 이전 파일은 {backups}/에 백업됩니다."
        )
    }
    fn report_invalid(&self, fields: &str) -> String {
        format!("입력이 올바르지 않아 아무것도 쓰지 않았습니다: {fields}.")
    }
}
