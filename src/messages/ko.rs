//! The front ends' messages in Korean.

use super::Replies;

pub struct Ko;

impl Replies for Ko {
    fn too_long(&self, max: usize) -> String {
        format!("메시지가 너무 깁니다. {max}바이트 이하로 보내 주세요.")
    }
    fn too_many(&self, max: usize) -> String {
        format!("진행 중인 대화가 너무 많습니다 (최대 {max}개). 잠시 뒤 다시 시도하세요.")
    }
    fn too_many_for_caller(&self, max: usize) -> String {
        format!("이 호출자의 진행 중인 대화가 너무 많습니다 (최대 {max}개). 끝내거나 취소한 뒤 다시 시도하세요.")
    }
    fn store_unavailable(&self) -> String {
        "대화 저장소에 연결할 수 없어 아무것도 하지 않았습니다. 잠시 뒤 다시 보내 주세요.".into()
    }
    fn turn_busy(&self) -> String {
        "이 대화의 이전 메시지를 아직 처리하는 중입니다. 잠시 뒤 다시 보내 주세요.".into()
    }

    fn no_conversation(&self) -> String {
        "진행 중인 대화가 없습니다.".into()
    }
    fn nothing_to_press(&self) -> String {
        "진행 중인 대화가 없습니다 (끝났거나 만료됨). 아무것도 하지 않았습니다.".into()
    }
    fn cancelled(&self) -> String {
        "취소했습니다. 아무것도 쓰지 않았습니다.".into()
    }
    fn dry_run_only(&self) -> String {
        "미리보기만 했습니다. 아무것도 쓰지 않았습니다.".into()
    }
    fn declined(&self) -> String {
        "알겠습니다. 아무것도 쓰지 않았습니다.".into()
    }
    fn skill_gone(&self) -> String {
        "스킬을 찾을 수 없습니다.".into()
    }
    fn answer_yes_or_no(&self) -> String {
        "진행할까요? 네 또는 아니요로 답해 주세요.".into()
    }
    fn run_busy(&self) -> String {
        "다른 실행이 같은 위치에 쓰는 중이라 아무것도 쓰지 않았습니다. 다시 진행할까요? (네/아니요)".into()
    }
    fn stale_plan(&self) -> String {
        "이 계획은 더 이상 최신이 아닙니다. 아무것도 하지 않았습니다. 최근 메시지에 답해 주세요.".into()
    }
    fn already_applying(&self) -> String {
        "이 대화의 계획은 이미 적용을 시작했습니다. 다시 적용하지 않았습니다. 프로젝트를 확인해 주세요.".into()
    }
    fn prerequisite_first(&self, first: &str, then: &str) -> String {
        format!("먼저 {first}을(를) 진행하고, 적용되면 {then}을(를) 이어서 하겠습니다.")
    }
    fn plan_for(&self, project: &str) -> String {
        format!("{project}에 적용할 계획:")
    }
    fn go_ahead(&self) -> String {
        "진행할까요? (네/아니요)".into()
    }
    fn files_heading(&self) -> String {
        "파일".into()
    }

    fn button_apply(&self) -> String {
        "적용".into()
    }
    fn button_dry_run_only(&self) -> String {
        "미리보기만".into()
    }
    fn button_cancel(&self) -> String {
        "취소".into()
    }
    fn button_back(&self) -> String {
        "돌아가기".into()
    }
    fn apply_this_plan(&self) -> String {
        "계획을 적용할까요?".into()
    }
    fn apply_will_write(&self) -> String {
        "위 계획대로 프로젝트에 파일을 씁니다.".into()
    }
    fn not_yours(&self, owner: &str) -> String {
        format!("이 계획은 <@{owner}>님만 진행할 수 있습니다. 아무것도 하지 않았습니다.")
    }
    fn not_the_starter(&self) -> String {
        "이 계획은 대화를 시작한 사람만 진행할 수 있습니다. 아무것도 하지 않았습니다.".into()
    }

    fn stage_validated(&self) -> String {
        "입력 확인 완료".into()
    }
    fn stage_planned(&self, files: usize) -> String {
        format!("파일 {files}개 계획 완료")
    }
    fn stage_applying(&self) -> String {
        "파일 쓰는 중".into()
    }
    fn stage_done(&self) -> String {
        "완료".into()
    }
}
