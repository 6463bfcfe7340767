"""`warroom shell-hook bash|zsh`: a snippet that, once turned on with `warroom_log on [ID]`, logs
every command typed in that shell to the incident (`warroom log-command`, in the background so the
prompt never waits), and marks the prompt `[rec ID]` until `warroom_log off`.

Only the command line, exit status, duration and directory are logged (the output stays on the
terminal; `warroom run` captures output). The line is redacted by warroom, and passed on stdin so it
never shows in the process list. `warroom_log` itself and `warroom run` (which logs itself) are not
logged twice.
"""

from __future__ import annotations

import shlex

_COMMON = r"""
warroom_log() {
    case "${1:-status}" in
    on)
        local id
        id=$(__warroom check ${2:+"$2"}) || return
        __warroom_incident=$id
        __warroom_mark
        printf 'warroom: logging every command of this shell to %s (warroom_log off stops)\n' "$id"
        ;;
    off)
        if [ -n "$__warroom_incident" ]; then
            PS1=${PS1#"[rec $__warroom_incident] "}
            printf 'warroom: stopped logging to %s\n' "$__warroom_incident"
        fi
        __warroom_incident=
        __warroom_started=
        ;;
    status)
        if [ -n "$__warroom_incident" ]; then
            printf 'warroom: logging to %s (warroom_log off stops)\n' "$__warroom_incident"
        else
            printf 'warroom: not logging (warroom_log on [ID] starts)\n'
        fi
        ;;
    *)
        printf 'usage: warroom_log on [ID] | off | status\n' >&2
        return 2
        ;;
    esac
}

__warroom() {
    if [ "$1" = check ]; then
        "${__warroom_cmd[@]}" log-command --check ${2:+"$2"}
        return
    fi
    # log LINE STATUS STARTED ENDED, in the background: the next prompt does not wait for it
    printf '%s' "$2" | "${__warroom_cmd[@]}" log-command "$__warroom_incident" --exit "$3" \
        --started "$4" --ended "$5" --cwd "$PWD" >/dev/null
}

__warroom_skip() {  # commands that are not logged: warroom_log itself, warroom run (it logs itself)
    case "$1" in
    warroom_log|warroom_log\ *|__warroom*|warroom\ run\ *|*/warroom\ run\ *) return 0 ;;
    esac
    return 1
}
"""

_BASH = r"""
__warroom_now() { printf '%s' "${EPOCHREALTIME:-$(date +%s)}"; }
__warroom_mark() { [[ $PS1 == "[rec $__warroom_incident] "* ]] || PS1="[rec $__warroom_incident] $PS1"; }

__warroom_preexec() {  # DEBUG trap: the first simple command after a prompt starts the clock
    [ -n "$__warroom_incident" ] && [ -n "$__warroom_at_prompt" ] || return 0
    __warroom_at_prompt=
    case "$BASH_COMMAND" in __warroom_precmd*) return 0 ;; esac
    __warroom_first=$BASH_COMMAND
    __warroom_started=$(__warroom_now)
}

__warroom_precmd() {  # first in PROMPT_COMMAND, so $? is the command's status
    local status=$? line number
    if [ -n "$__warroom_started" ] && [ -n "$__warroom_incident" ]; then
        line=$(HISTTIMEFORMAT= builtin history 1)
        if [[ $line =~ ^[[:space:]]*([0-9]+)[*]?[[:space:]]+(.*)$ ]] && [ "${BASH_REMATCH[1]}" != "$__warroom_histnum" ]; then
            number=${BASH_REMATCH[1]}
            line=${BASH_REMATCH[2]}
            __warroom_histnum=$number
        else
            line=$__warroom_first  # not in the history (ignorespace, ignoredups, history off)
        fi
        if ! __warroom_skip "$line"; then
            (__warroom log "$line" "$status" "$__warroom_started" "$(__warroom_now)" &)
        fi
    fi
    __warroom_started=
    return $status
}

__warroom_ready() {  # last in PROMPT_COMMAND: from here the next command is the user's
    if [ -n "$__warroom_incident" ]; then
        __warroom_mark
        if [[ $(HISTTIMEFORMAT= builtin history 1) =~ ^[[:space:]]*([0-9]+) ]]; then
            __warroom_histnum=${BASH_REMATCH[1]}
        fi
    fi
    __warroom_at_prompt=1
}

if [[ $PROMPT_COMMAND != *__warroom_precmd* ]]; then
    PROMPT_COMMAND="__warroom_precmd${PROMPT_COMMAND:+; $PROMPT_COMMAND}; __warroom_ready"
fi
trap '__warroom_preexec' DEBUG
"""

_ZSH = r"""
zmodload zsh/datetime 2>/dev/null
autoload -Uz add-zsh-hook
__warroom_now() { printf '%s' "${EPOCHREALTIME:-$(date +%s)}"; }
__warroom_mark() { [[ $PS1 == "[rec $__warroom_incident] "* ]] || PS1="[rec $__warroom_incident] $PS1"; }

__warroom_preexec() {  # zsh passes the line as typed
    [[ -n $__warroom_incident ]] || return 0
    __warroom_line=$1
    __warroom_started=$(__warroom_now)
}

__warroom_precmd() {
    local exit_status=$?
    if [[ -n $__warroom_started && -n $__warroom_incident ]] && ! __warroom_skip "$__warroom_line"; then
        __warroom log "$__warroom_line" "$exit_status" "$__warroom_started" "$(__warroom_now)" &!
    fi
    __warroom_started=
    [[ -n $__warroom_incident ]] && __warroom_mark
    return $exit_status
}

add-zsh-hook preexec __warroom_preexec
precmd_functions=(__warroom_precmd ${precmd_functions:#__warroom_precmd})  # first, so $? is the command's
"""


def snippet(shell: str, command: list[str]) -> str:
    """The hook for `shell` ("bash" or "zsh"), calling warroom as `command` (argv words)."""
    body = {"bash": _BASH, "zsh": _ZSH}[shell]
    head = (f"# warroom shell hook ({shell}). warroom_log on [ID] | off | status\n"
            f"__warroom_cmd=({' '.join(shlex.quote(word) for word in command)})\n")
    return head + _COMMON + body
