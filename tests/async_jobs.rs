//! `async`/`poll` and `async_status` on the virtual clock: a polled job holds the task for
//! whole poll intervals, a background job is followed by async_status until it is done,
//! async_wrapper kills a job past its limit, and job ids come from the run seed.

use std::process::{Command, Output};

fn run(playbook: &str, seed: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inv"), "app1\n").unwrap();
    std::fs::write(dir.path().join("site.yml"), playbook).unwrap();
    Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(["playbook", "-i", "inv", "site.yml", "--seed", seed])
        .arg("--sandbox")
        .arg(dir.path().join("sandbox"))
        .current_dir(dir.path())
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const TIMED: &str = r#"- hosts: all
  gather_facts: false
  tasks:
    - command: date +%s
      register: t0
    - name: polled
      command: sleep 7
      async: 20
      poll: 5
    - command: date +%s
      register: t1
    - debug:
        msg: "polled took {{ t1.stdout | int - t0.stdout | int }}"
    - name: background
      command: sleep 30
      async: 60
      poll: 0
      register: job
    - command: date +%s
      register: t2
    - debug:
        msg: "background took under 2 s: {{ t2.stdout | int - t1.stdout | int < 2 }}"
    - name: follow
      async_status:
        jid: "{{ job.ansible_job_id }}"
      register: st
      until: st.finished
      retries: 10
      delay: 5
    - debug:
        msg: "job {{ job.ansible_job_id }} rc={{ st.rc }} finished={{ st.finished }}"
"#;

#[test]
fn a_polled_job_takes_whole_poll_intervals() {
    let out = run(TIMED, "1");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // A 7 s job looked at every 5 s is seen finished at the second look: 10 s.
    assert!(text.contains("\"msg\": \"polled took 10\""), "{text}");
    assert_eq!(
        text.matches("ASYNC POLL on app1: jid=").count(),
        1,
        "{text}"
    );
    assert_eq!(text.matches("ASYNC OK on app1: jid=").count(), 1, "{text}");
}

#[test]
fn a_background_job_is_followed_until_done() {
    let out = run(TIMED, "1");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // poll: 0 leaves the 30 s job running and the play moves on at once.
    assert!(
        text.contains("\"msg\": \"background took under 2 s: True\""),
        "{text}"
    );
    // Looks 5 s apart: unfinished until the job's 30 s are over.
    assert_eq!(
        text.matches("FAILED - RETRYING: [app1]: follow").count(),
        6,
        "{text}"
    );
    assert!(text.contains(" rc=0 finished=True\""), "{text}");
}

#[test]
fn job_ids_come_from_the_seed() {
    let jid = |seed: &str| {
        let text = stdout(&run(TIMED, seed));
        let at = text.find("\"msg\": \"job ").expect("the job line") + 12;
        text[at..].split_whitespace().next().unwrap().to_string()
    };
    let first = jid("7");
    assert_eq!(first, jid("7"));
    assert_ne!(first, jid("8"));
    let (digits, pid) = first[1..].split_once('.').unwrap();
    assert!(first.starts_with('j') && digits.parse::<u64>().is_ok() && pid.parse::<u32>().is_ok());
}

#[test]
fn async_wrapper_kills_a_job_past_its_limit() {
    // async 7: the wrapper looks every 5 s and kills at 10 s; the result is written at 11 s,
    // before the executor's first look at 20 s.
    let out = run(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: sleep 30\n      async: 7\n      poll: 20\n      register: r\n      ignore_errors: true\n    - debug:\n        msg: \"{{ r.msg }} {{ r.finished }} {{ r.child_pid is number }}\"\n",
        "1",
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("ASYNC FAILED on app1: jid="), "{text}");
    assert!(
        text.contains("\"msg\": \"Timeout exceeded True True\""),
        "{text}"
    );
}

#[test]
fn a_job_still_running_at_the_last_look_fails_the_task() {
    let out = run(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: sleep 30\n      async: 20\n      poll: 5\n",
        "1",
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert_eq!(text.matches("ASYNC POLL on app1").count(), 4, "{text}");
    assert!(
        text.contains("[ERROR]: Task failed: Action failed: async task did not complete within the requested time - 20s"),
        "{text}"
    );
}

#[test]
fn actions_without_async_support_fail() {
    let out = run(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - set_fact:\n        a: 1\n      async: 5\n",
        "1",
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("fatal: [app1]: FAILED! => {\"changed\": false, \"msg\": \"This action (set_fact) does not support async.\"}"),
        "{text}"
    );
}
