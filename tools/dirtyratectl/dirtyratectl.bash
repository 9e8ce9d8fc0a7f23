# SPDX-License-Identifier: GPL-2.0-only
# bash completion for dirtyratectl: commands, options and their values, and
# PIDs: the tracked ones (asked of the daemon) for show and untrack, any
# running one for track. Installed to share/bash-completion/completions/.

# COMPREPLY: the words of $1 that begin with $2.
_dirtyratectl_offer() {
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

_dirtyratectl() {
	local verbs="status list top watch show track untrack"
	local opts="-h --help --version --address= --json= -j --no-legend --no-pager --order= -b --batch
		-d --delay= -n --iterations= --count= -i --interval="
	local columns="pid comm rate avg10 avg60 avg300 faults resident backend unit"
	# The words up to the cursor, split at blanks only: bash's own split
	# (COMP_WORDS) also breaks at '=', which --json=short has.
	local line=${COMP_LINE:0:COMP_POINT} words=() cur verb="" address=() i skip=0
	read -ra words <<<"$line"
	[[ $line == *[[:space:]] || ${#words[@]} -eq 0 ]] && words+=("")
	cur=${words[-1]}

	for ((i = 1; i < ${#words[@]} - 1; i++)); do
		if ((skip)); then skip=0; continue; fi
		case ${words[i]} in
		-d|--delay|-n|--iterations|--count|-i|--interval|--address|--order) skip=1 ;;
		--address=*) address=("${words[i]}") ;;
		-*) ;;
		*) [[ -z $verb ]] && verb=${words[i]} ;;
		esac
	done
	# The value of an option given apart from it: nothing to offer but --order's.
	if ((skip)); then
		[[ ${words[-2]} == --order ]] && _dirtyratectl_offer "$columns" "$cur"
		return
	fi

	case $cur in
	--json=*) _dirtyratectl_offer "short pretty off help" "${cur#--json=}"; return ;;
	--order=*) _dirtyratectl_offer "$columns" "${cur#--order=}"; return ;;
	--*=*) return ;;
	-*)
		_dirtyratectl_offer "$opts" "$cur"
		[[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace
		return ;;
	esac

	if [[ -z $verb ]]; then
		_dirtyratectl_offer "$verbs" "$cur"
		return
	fi
	# One PID after show, track and untrack; nothing after the others.
	local args=0
	for ((i = 1; i < ${#words[@]} - 1; i++)); do
		[[ ${words[i]} == "$verb" ]] && { args=$((${#words[@]} - 2 - i)); break; }
	done
	((args == 0)) || return
	case $verb in
	show|untrack)
		_dirtyratectl_offer "$("${COMP_WORDS[0]}" "${address[@]}" --no-pager --no-legend list --order=pid \
			2>/dev/null | awk '{ print $1 }')" "$cur" ;;
	track)
		local pids=(/proc/[0-9]*)
		_dirtyratectl_offer "${pids[*]#/proc/}" "$cur" ;;
	esac
}

complete -F _dirtyratectl dirtyratectl
