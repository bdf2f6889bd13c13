//! Expected outputs recorded once from dash (/bin/sh on Debian) by running each script in an
//! empty temp dir; the tests compare the in-process shell against them (no real shell runs).

use super::dash_case;

dash_case!(
    echo_basic,
    r#"echo hello world; echo -n a; echo b; echo "a\tb\nc"; echo 'x\c'; echo after"#,
    r#"hello world
ab
a	b
c
xafter
"#,
    r#""#,
    0
);
dash_case!(
    echo_e_literal,
    r#"echo -e "b\tc"; echo -n; echo"#,
    r#"-e b	c

"#,
    r#""#,
    0
);
dash_case!(
    quoting,
    r#"a=world; echo 'single $a' "double $a" \$a \"q\" "it's" 'a"b' "back\\slash" "\$a" a\ b"#,
    r#"single $a double world $a "q" it's a"b back\slash $a a b
"#,
    r#""#,
    0
);
dash_case!(
    vars_default_forms,
    r#"unset x; echo "${x:-def}" "${x-def2}"; x=; echo "[${x:-d}]" "[${x-d}]" "[${x:+alt}]" "[${x+alt}]"; echo "${y:=assigned}" "$y"; z=abc.tar.gz; echo ${z%.*} ${z%%.*} ${z#*.} ${z##*.} ${#z}"#,
    r#"def def2
[d] [] [] [alt]
assigned assigned
abc.tar abc tar.gz gz 10
"#,
    r#""#,
    0
);
dash_case!(
    param_length_positional,
    r#"set -- a "b c" d; echo $# "$1" "$2" ${#2}; shift; echo "$@"; echo "$*"; for i in "$@"; do echo "[$i]"; done; for i in $*; do echo "<$i>"; done"#,
    r#"3 a b c 3
b c d
b c d
[b c]
[d]
<b>
<c>
<d>
"#,
    r#""#,
    0
);
dash_case!(
    field_splitting,
    r#"v="a  b   c"; echo $v; echo "$v"; IFS=:; w="x:y::z"; for i in $w; do echo "($i)"; done"#,
    r#"a b c
a  b   c
(x)
(y)
()
(z)
"#,
    r#""#,
    0
);
dash_case!(
    command_subst,
    r#"x=$(echo hi; echo there); echo "$x"; echo `echo back tick`; echo "$(echo "nested $(echo deep)")"; y=$(printf 'a\n\n\n'); echo "[$y]""#,
    r#"hi
there
back tick
nested deep
[a]
"#,
    r#""#,
    0
);
dash_case!(
    arith,
    r#"a=7; echo $((a + 3 * 2)) $(( (a+3) * 2 )) $((a % 4)) $((a / 2)) $((a > 5)) $((a == 7 && 0)) $((-a)) $((010 + 0x10)); b=$((a += 1)); echo $a $b; echo $((a<<2)) $(( a ? 1 : 2 ))"#,
    r#"13 20 3 3 1 0 -7 24
8 8
32 1
"#,
    r#""#,
    0
);
dash_case!(
    arith_div_zero,
    r#"echo before; echo $((1/0)); echo after"#,
    r#"before
"#,
    r#"sh: 1: arithmetic expression: division by zero: "1/0"
"#,
    2
);
dash_case!(
    exit_status,
    r#"false; echo $?; true; echo $?; ! true; echo $?; ! false; echo $?; true | false; echo $?; false | true; echo $?"#,
    r#"1
0
1
0
1
0
"#,
    r#""#,
    0
);
dash_case!(
    and_or,
    r#"true && echo yes; false && echo no; false || echo fallback; true || echo never; false && echo a || echo b"#,
    r#"yes
fallback
b
"#,
    r#""#,
    0
);
dash_case!(
    if_elif_else,
    r#"for n in 1 2 3; do if [ $n -eq 1 ]; then echo one; elif [ $n = 2 ]; then echo two; else echo other; fi; done"#,
    r#"one
two
other
"#,
    r#""#,
    0
);
dash_case!(
    while_until,
    r#"i=0; while [ $i -lt 3 ]; do echo "w$i"; i=$((i+1)); done; until [ $i -eq 0 ]; do i=$((i-1)); echo "u$i"; done"#,
    r#"w0
w1
w2
u2
u1
u0
"#,
    r#""#,
    0
);
dash_case!(
    break_continue,
    r#"for i in 1 2 3 4 5; do if [ $i = 2 ]; then continue; fi; if [ $i = 4 ]; then break; fi; echo $i; done; for a in x y; do for b in 1 2; do if [ $b = 2 ]; then continue 2; fi; echo $a$b; done; done"#,
    r#"1
3
x1
y1
"#,
    r#""#,
    0
);
dash_case!(
    case_glob,
    r#"for f in app.conf readme.md Makefile x.c; do case $f in *.conf) echo "conf $f";; *.md|*.txt) echo "doc $f";; [A-Z]*) echo "upper $f";; *) echo "other $f";; esac; done"#,
    r#"conf app.conf
doc readme.md
upper Makefile
other x.c
"#,
    r#""#,
    0
);
dash_case!(
    functions,
    r#"greet() { echo "hello $1 ($#)"; return 3; }; greet bob x; echo "rc=$?"; f() { local v=inner; echo $v; }; v=outer; f; echo $v"#,
    r#"hello bob (2)
rc=3
inner
outer
"#,
    r#""#,
    0
);
dash_case!(
    exit_code,
    r#"echo start; exit 7; echo never"#,
    r#"start
"#,
    r#""#,
    7
);
dash_case!(
    set_e,
    r#"set -e; echo one; false || true; if false; then :; fi; echo two; false; echo never"#,
    r#"one
two
"#,
    r#""#,
    1
);
dash_case!(
    heredoc_quoted,
    r#"cat <<'EOF2'
$HOME `x` \$ stays
EOF2"#,
    r#"$HOME `x` \$ stays
"#,
    r#""#,
    0
);
dash_case!(
    heredoc_unquoted,
    r#"name=world; cat <<EOF2
hello $name $((1+2)) $(echo sub)
\$literal
EOF2"#,
    r#"hello world 3 sub
$literal
"#,
    r#""#,
    0
);
dash_case!(
    heredoc_strip_tabs,
    r#"cat <<-EOF2
	tabbed $((2*3))
		more
	EOF2
echo done"#,
    r#"tabbed 6
more
done
"#,
    r#""#,
    0
);
dash_case!(
    redirections,
    r#"echo one > out.txt; echo two >> out.txt; cat out.txt; cat < out.txt | wc -l; echo err 1>&2 2>/dev/null; ls nonexist 2>/dev/null; echo "rc=$?"; ls nonexist 2>&1 | head -1; echo both &> both.txt; cat both.txt"#,
    r#"one
two
2
rc=2
ls: cannot access 'nonexist': No such file or directory
both
"#,
    r#"err
"#,
    0
);
dash_case!(
    stderr_redirect_order,
    r#"{ echo out; echo err >&2; } 2>&1 | cat; { echo out2; echo err2 >&2; } > f.txt 2>&1; cat f.txt"#,
    r#"out
err
out2
err2
"#,
    r#""#,
    0
);
dash_case!(
    redirect_errors,
    r#"echo x > nodir/y; echo "rc=$?"; cat < missing; echo "rc=$?""#,
    r#"rc=2
rc=2
"#,
    r#"sh: 1: cannot create nodir/y: Directory nonexistent
sh: 1: cannot open missing: No such file
"#,
    0
);
dash_case!(
    not_found,
    r#"nosuchcmd arg; echo "rc=$?""#,
    r#"rc=127
"#,
    r#"sh: 1: nosuchcmd: not found
"#,
    0
);
dash_case!(
    not_found_line,
    r#"echo a
echo b
nosuchcmd"#,
    r#"a
b
"#,
    r#"sh: 3: nosuchcmd: not found
"#,
    127
);
dash_case!(
    syntax_error,
    r#"echo before
if true; then"#,
    r#"before
"#,
    r#"sh: 2: Syntax error: end of file unexpected (expecting "fi")
"#,
    2
);
dash_case!(
    pipes,
    r#"printf 'b\na\nc\na\n' | sort | uniq -c; printf 'x y z\n' | tr ' ' '\n' | wc -l"#,
    r#"      2 a
      1 b
      1 c
3
"#,
    r#""#,
    0
);
dash_case!(
    subshell_brace,
    r#"x=1; (x=2; echo "in $x"); echo "out $x"; { x=3; }; echo "brace $x""#,
    r#"in 2
out 1
brace 3
"#,
    r#""#,
    0
);
dash_case!(
    glob,
    r#"mkdir g; touch g/a.conf g/b.conf g/c.txt g/.hidden.conf; echo g/*.conf; echo g/*.none; echo "g/*.conf"; cd g; echo *; echo .*conf"#,
    r#"g/a.conf g/b.conf
g/*.none
g/*.conf
a.conf b.conf c.txt
.hidden.conf
"#,
    r#""#,
    0
);
dash_case!(
    cd_pwd_rel,
    r#"mkdir -p d1/d2; cd d1/d2; basename "$(pwd)"; cd ..; basename "$PWD"; cd /nonexistent; echo "rc=$?""#,
    r#"d2
d1
rc=2
"#,
    r#"sh: 1: cd: can't cd to /nonexistent
"#,
    0
);
dash_case!(
    printf_forms,
    r#"printf '%s-%d\n' a 5 b 6; printf '%5s|%-5s|%03d|%x|%o|%c|%%\n' ab cd 7 255 8 xyz; printf '%b\n' 'a\tb'; printf 'no newline'; echo; printf '%.2f %e\n' 3.14159 1234.5"#,
    r#"a-5
b-6
   ab|cd   |007|ff|10|x|%
a	b
no newline
3.14 1.234500e+03
"#,
    r#""#,
    0
);
dash_case!(
    test_forms,
    r#"touch f; mkdir d; [ -f f ] && echo isfile; [ -d d ] && echo isdir; [ -e nope ] || echo nope; [ -n "x" ] && echo nonempty; [ -z "" ] && echo empty; [ 3 -lt 10 ] && echo lt; [ abc = abc ] && echo eq; [ abc != abd ] && echo ne; test ! -f d && echo notfile; [ -s f ] || echo zerosize; [ 1 -eq 1 -a 2 -eq 2 ] && echo and; [ 1 -eq 2 -o 2 -eq 2 ] && echo or"#,
    r#"isfile
isdir
nope
nonempty
empty
lt
eq
ne
notfile
zerosize
and
or
"#,
    r#""#,
    0
);
dash_case!(
    test_errors,
    r#"[ 1 -eq a ]; echo "rc=$?"; [ a = b; echo "rc=$?""#,
    r#"rc=2
rc=2
"#,
    r#"sh: 1: [: Illegal number: a
sh: 1: [: missing ]
"#,
    0
);
dash_case!(
    file_utils,
    r#"mkdir -p a/b/c; echo data > a/b/c/f; cp a/b/c/f g; cat g; mv g h; ls; cp -r a a2; ls a2/b/c; rm -r a2; ls; rm h; ls; mkdir a; echo "rc=$?"; rmdir a; echo "rc=$?"; rm nope; echo "rc=$?"; rm -f nope; echo "rc=$?""#,
    r#"data
a
h
f
a
h
a
rc=1
rc=1
rc=1
rc=0
"#,
    r#"mkdir: cannot create directory ‘a’: File exists
rmdir: failed to remove 'a': Directory not empty
rm: cannot remove 'nope': No such file or directory
"#,
    0
);
dash_case!(
    file_errors,
    r#"cat nope; cp nope x; mv nope x; mkdir d; cp d e; rm d; ls nope; echo "rc=$?"; touch d/x/y; chmod 644 nope; head -n 1 nope; wc -l nope; grep x nope; sort nope; sed -n p nope; tail nope; cut -f1 nope"#,
    r#"rc=2
"#,
    r#"cat: nope: No such file or directory
cp: cannot stat 'nope': No such file or directory
mv: cannot stat 'nope': No such file or directory
cp: -r not specified; omitting directory 'd'
rm: cannot remove 'd': Is a directory
ls: cannot access 'nope': No such file or directory
touch: cannot touch 'd/x/y': No such file or directory
chmod: cannot access 'nope': No such file or directory
head: cannot open 'nope' for reading: No such file or directory
wc: nope: No such file or directory
grep: nope: No such file or directory
sort: cannot read: nope: No such file or directory
sed: can't read nope: No such file or directory
tail: cannot open 'nope' for reading: No such file or directory
cut: nope: No such file or directory
"#,
    1
);
dash_case!(
    ln_symlinks,
    r#"echo target > t; ln -s t l; cat l; ln -s t l; echo "rc=$?"; readlink l; ln t hard; cat hard"#,
    r#"target
rc=1
t
target
"#,
    r#"ln: failed to create symbolic link 'l': File exists
"#,
    0
);
dash_case!(
    wc_forms,
    r#"printf 'a b\nc\n' > f; wc -l < f; wc -c < f; wc -w < f; wc -l f; wc f; printf 'a b\n' | wc"#,
    r#"2
6
3
2 f
2 3 6 f
      1       2       4
"#,
    r#""#,
    0
);
dash_case!(
    head_tail,
    r#"seq 10 > n; head -n 3 n; tail -n 2 n; head -2 n; tail -n +9 n; head -c 5 n; echo"#,
    r#"1
2
3
9
10
1
2
9
10
1
2
3
"#,
    r#""#,
    0
);
dash_case!(
    grep_forms,
    r#"printf 'apple\nBanana\ncherry\napple pie\n' > f; grep apple f; grep -c apple f; grep -v apple f; grep -i banana f; grep -n cherry f; grep -E 'ch|Ba' f; grep -F 'e p' f; grep -q apple f && echo found; grep nomatch f; echo "rc=$?"; grep '^a.*e$' f; grep 'p\{2\}' f"#,
    r#"apple
apple pie
2
Banana
cherry
Banana
3:cherry
Banana
cherry
apple pie
found
rc=1
apple
apple pie
apple
apple pie
"#,
    r#""#,
    0
);
dash_case!(
    sed_forms,
    r#"printf 'hello world\nfoo bar\n' > f; sed 's/o/0/' f; sed 's/o/0/g' f; sed -n 's/foo/FOO/p' f; sed -i 's/world/there/' f; cat f; echo abc | sed 's/\(a\)\(b\)/\2\1/'; echo 'a/b' | sed 's|/|_|g'; sed '1d' f; sed -n '2p' f; echo x.y | sed -E 's/(x)\.(y)/\2-\1/'"#,
    r#"hell0 world
f0o bar
hell0 w0rld
f00 bar
FOO bar
hello there
foo bar
bac
a_b
foo bar
foo bar
y-x
"#,
    r#""#,
    0
);
dash_case!(
    cut_tr,
    r#"echo 'a:b:c' | cut -d: -f2; echo 'a:b:c' | cut -d: -f1,3; echo abcdef | cut -c2-4; echo hello | tr a-z A-Z; echo 'a  b' | tr -s ' '; echo hello | tr -d l"#,
    r#"b
a:c
bcd
HELLO
a b
heo
"#,
    r#""#,
    0
);
dash_case!(
    sort_uniq,
    r#"printf '10\n9\n100\n9\n' | sort; printf '10\n9\n100\n9\n' | sort -n; printf '10\n9\n100\n9\n' | sort -rn; printf 'b\na\nb\n' | sort -u; printf 'a\na\nb\na\n' | uniq; printf 'a\na\nb\n' | uniq -c"#,
    r#"10
100
9
9
9
9
10
100
100
10
9
9
a
b
a
b
a
      2 a
      1 b
"#,
    r#""#,
    0
);
dash_case!(
    tee_forms,
    r#"echo hi | tee t1; cat t1; echo more | tee -a t1 > /dev/null; cat t1"#,
    r#"hi
hi
hi
more
"#,
    r#""#,
    0
);
dash_case!(
    seq_basename,
    r#"seq 3; seq 2 4; seq 1 2 7; basename /a/b/c.txt; basename /a/b/c.txt .txt; dirname /a/b/c; dirname c; basename /; dirname /"#,
    r#"1
2
3
2
3
4
1
3
5
7
c.txt
c
/a/b
.
/
/
"#,
    r#""#,
    0
);
dash_case!(
    read_loop,
    r#"printf 'one 1\ntwo 2\nthree 3\n' > f; while read name num; do echo "$num:$name"; done < f; echo "a b c" | { read x y; echo "[$x][$y]"; }"#,
    r#"1:one
2:two
3:three
[a][b c]
"#,
    r#""#,
    0
);
dash_case!(
    xargs_find,
    r#"mkdir -p t/s; touch t/a.log t/s/b.log t/c.txt; find t -name '*.log' | sort; find t -type d | sort; echo 1 2 3 | xargs echo n:; printf 'x\ny\n' | xargs -I{} echo item-{}"#,
    r#"t/a.log
t/s/b.log
t
t/s
n: 1 2 3
item-x
item-y
"#,
    r#""#,
    0
);
dash_case!(
    stat_chmod,
    r#"touch f; chmod 755 f; stat -c '%a %n %F' f; chmod u-x,g-x f; stat -c '%a' f; chmod +x f; stat -c '%a %U %G' f; mkdir d; stat -c '%F %a' d"#,
    r#"755 f regular empty file
645
755 root root
directory 755
"#,
    r#""#,
    0
);
dash_case!(
    env_export,
    r#"export FOO=bar; env | grep '^FOO='; BAZ=1 env | grep '^BAZ='; env | grep -c '^BAZ='; unset FOO; echo "[${FOO}]""#,
    r#"FOO=bar
BAZ=1
0
[]
"#,
    r#""#,
    0
);
dash_case!(
    special_params,
    r#"f() { echo $#; echo "$0" >/dev/null; }; f a b c; echo $?; (exit 3); echo $?"#,
    r#"3
0
3
"#,
    r#""#,
    0
);
dash_case!(
    nested_quotes_subst,
    r#"echo "$(echo "a b" | tr a-z A-Z)"; x="$(echo '$HOME')"; echo "$x"; echo "${undefined:-"quoted default"}""#,
    r#"A B
$HOME
quoted default
"#,
    r#""#,
    0
);
dash_case!(
    return_top,
    r#"f() { return 5; }; f; echo $?"#,
    r#"5
"#,
    r#""#,
    0
);
dash_case!(
    semicolons_newlines,
    r#"echo a;echo b
echo c; echo d ;
if true
then
  echo e
fi"#,
    r#"a
b
c
d
e
"#,
    r#""#,
    0
);
dash_case!(
    comments,
    r#"echo a # comment
# full line
echo b#notcomment"#,
    r#"a
b#notcomment
"#,
    r#""#,
    0
);
dash_case!(
    until_loop_arith,
    r#"n=5; s=0; until [ $n -le 0 ]; do s=$((s + n)); n=$((n - 1)); done; echo $s"#,
    r#"15
"#,
    r#""#,
    0
);
dash_case!(
    case_quotes,
    r#"x='*'; case "a" in $x) echo glob-matched;; esac; case "a" in "$x") echo literal;; *) echo no-literal;; esac"#,
    r#"glob-matched
no-literal
"#,
    r#""#,
    0
);
dash_case!(
    assign_prefix,
    r#"X=1 sh -c 'echo inner $X'; echo "outer [$X]""#,
    r#"inner 1
outer []
"#,
    r#""#,
    0
);
dash_case!(
    sh_c,
    r#"sh -c 'echo $0 $1 $2' name a b; sh -c 'exit 4'; echo $?"#,
    r#"name a b
4
"#,
    r#""#,
    0
);
dash_case!(
    tilde,
    r#"echo ~ ~/x ~root"#,
    r#"/root /root/x /root
"#,
    r#""#,
    0
);
dash_case!(
    empty_quoted_args,
    r#"f() { echo $#; }; f "" ''; f "$nothing"; f $nothing"#,
    r#"2
1
0
"#,
    r#""#,
    0
);
dash_case!(
    colon_true,
    r#": ; echo $?; :; true; echo ok"#,
    r#"0
ok
"#,
    r#""#,
    0
);
dash_case!(
    backslash_newline,
    r#"echo a\
b; echo "c\
d""#,
    r#"ab
cd
"#,
    r#""#,
    0
);
dash_case!(
    yes_head,
    r#"yes | head -n 3; yes no | head -n 2"#,
    r#"y
y
y
no
no
"#,
    r#""#,
    0
);
dash_case!(
    date_forms,
    r#"date -u -d @1700000000; date -u -d @0 '+%Y-%m-%d %H:%M:%S %a %b %j %s %Z'; date -u -d @1700000000 +%F"#,
    r#"Tue Nov 14 22:13:20 UTC 2023
1970-01-01 00:00:00 Thu Jan 001 0 UTC
2023-11-14
"#,
    r#""#,
    0
);
dash_case!(
    heredoc_in_cmdsubst,
    r#"x=$(cat <<EOF2
inside $((3+4))
EOF2
); echo "[$x]""#,
    r#"[inside 7]
"#,
    r#""#,
    0
);
dash_case!(
    heredoc_two_on_line,
    r#"cat <<A; cat <<B
first
A
second
B"#,
    r#"first
second
"#,
    r#""#,
    0
);
dash_case!(
    heredoc_to_file_append,
    r#"cat > f <<EOF2
one
EOF2
cat >> f <<'EOF2'
two $x
EOF2
cat f"#,
    r#"one
two $x
"#,
    r#""#,
    0
);
dash_case!(
    heredoc_backslashes,
    r#"v=val; cat <<EOF2
a\$v \\ \`x\` "$v" '$v' \n
EOF2"#,
    r#"a$v \ `x` "val" 'val' \n
"#,
    r#""#,
    0
);
dash_case!(
    fd_dup_close,
    r#"{ echo to-out; echo to-err 1>&2; } 2>&1 >/dev/null; echo x >&-; echo "rc=$?""#,
    r#"to-err
rc=1
"#,
    r#"sh: 1: echo: echo: I/O error
"#,
    0
);
dash_case!(
    redirect_order,
    r#"ls nope > f 2>&1; cat f; ls nope 2>&1 > g | sed 's/^/piped: /'; cat g"#,
    r#"ls: cannot access 'nope': No such file or directory
piped: ls: cannot access 'nope': No such file or directory
"#,
    r#""#,
    0
);
dash_case!(
    redirect_input_heredoc_while,
    r#"while read l; do echo "got $l"; done <<EOF2
a
b
EOF2"#,
    r#"got a
got b
"#,
    r#""#,
    0
);
dash_case!(
    pipe_into_while_subshell,
    r#"n=0; printf '1\n2\n' | while read x; do n=$((n+x)); done; echo "n=$n""#,
    r#"n=0
"#,
    r#""#,
    0
);
dash_case!(
    eval_source,
    r#"eval 'x=5; echo "eval $x"'; echo 'echo sourced $x; y=7' > lib.sh; . ./lib.sh; echo "y=$y""#,
    r#"eval 5
sourced 5
y=7
"#,
    r#""#,
    0
);
dash_case!(
    set_u,
    r#"set -u; echo "${unset_var:-ok}"; echo $unset_var; echo never"#,
    r#"ok
"#,
    r#"sh: 1: unset_var: parameter not set
"#,
    2
);
dash_case!(
    param_error,
    r#"echo ${nope:?custom message}; echo never"#,
    r#""#,
    r#"sh: 1: nope: custom message
"#,
    2
);
dash_case!(
    exit_in_subshell,
    r#"(exit 3); echo "rc=$?"; (echo in; exit 4; echo no); echo "rc=$?"; x=$(exit 5); echo "rc=$?""#,
    r#"rc=3
in
rc=4
rc=5
"#,
    r#""#,
    0
);
dash_case!(return_outside, r#"return 2; echo never"#, r#""#, r#""#, 2);
dash_case!(
    nested_functions_recursion,
    r#"fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(( $1 - 1 ))) )); fi; }; fact 5"#,
    r#"120
"#,
    r#""#,
    0
);
dash_case!(
    case_fallthrough_patterns,
    r#"for w in yes Y no maybe ""; do case "$w" in [Yy]|[Yy][Ee][Ss]) echo "$w:yes";; n*) echo "$w:no";; "") echo empty;; *) echo "$w:?";; esac; done"#,
    r#"yes:yes
Y:yes
no:no
maybe:?
empty
"#,
    r#""#,
    0
);
dash_case!(
    case_newlines,
    r#"x=b
case $x in
  a)
    echo A
    ;;
  b)
    echo B
    ;;
esac"#,
    r#"B
"#,
    r#""#,
    0
);
dash_case!(
    for_no_in,
    r#"set -- p q; for a; do echo "$a"; done"#,
    r#"p
q
"#,
    r#""#,
    0
);
dash_case!(
    while_break_nested,
    r#"i=0; while true; do i=$((i+1)); [ $i -gt 3 ] && break; echo $i; done; echo end"#,
    r#"1
2
3
end
"#,
    r#""#,
    0
);
dash_case!(
    arith_vars_assign,
    r#"x=3; y=$((x*=2)); echo $x $y; echo $(( x > 5 ? x - 5 : 0 )); echo $(( (1 << 10) | 1 )); echo $((-7 / 2)) $((-7 % 2)); z="1+2"; echo $((z * 3))"#,
    r#"6 6
1
1025
-3 -1
"#,
    r#"sh: 1: Illegal number: 1+2
"#,
    2
);
dash_case!(
    arith_errors,
    r#"echo $((2 +)); echo after"#,
    r#""#,
    r#"sh: 1: arithmetic expression: expecting primary: "2 +"
"#,
    2
);
dash_case!(
    printf_reuse_missing,
    r#"printf '%s=%s\n' a 1 b; printf '%d\n' abc; echo "rc=$?"; printf '[%5.2s]\n' abcdef; printf '%-3d|\n' 5; printf '%+d %i\n' 5 -3"#,
    r#"a=1
b=
0
rc=1
[   ab]
5  |
+5 -3
"#,
    r#"sh: 1: printf: abc: expected numeric value
"#,
    0
);
dash_case!(
    echo_escapes_more,
    r#"echo 'a\\b'; echo 'oct\0101'; echo '\x41'; echo -n 'no-nl\n'; echo"#,
    r#"a\b
octA
\x41
no-nl

"#,
    r#""#,
    0
);
dash_case!(
    export_p_env_order,
    r#"export A=1 B=2; unset PATH; env; echo rc=$?; PATH=/bin:/usr/bin; export -p | grep -E '^export (A|B)='; env | grep -E '^(A|B)='"#,
    r#"rc=127
export A='1'
export B='2'
A=1
B=2
"#,
    r#"sh: 1: env: not found
"#,
    0
);
dash_case!(
    ls_variants,
    r#"mkdir d; touch d/b d/a d/.h; ls d; ls -a d; ls -A d; ls -1 d; ls d/a d/b; ls -d d; ls nope d 2>&1"#,
    r#"a
b
.
..
.h
a
b
.h
a
b
a
b
d/a
d/b
d
ls: cannot access 'nope': No such file or directory
d:
a
b
"#,
    r#""#,
    2
);
dash_case!(
    cp_mv_into_dir,
    r#"mkdir dst; echo 1 > f1; echo 2 > f2; cp f1 f2 dst; ls dst; mv f1 dst/moved; ls; cat dst/moved; mkdir src; touch src/in; cp -r src dst; ls dst/src; mv dst dst2; ls"#,
    r#"f1
f2
dst
f2
1
in
dst2
f2
src
"#,
    r#""#,
    0
);
dash_case!(
    rm_variants,
    r#"mkdir -p a/b; touch a/b/c; rm a 2>&1; rm -r a; ls; touch x y; rm -f x y nope; ls; rm; echo "rc=$?"; rm -rf; echo "rc=$?""#,
    r#"rm: cannot remove 'a': Is a directory
rc=1
rc=0
"#,
    r#"rm: missing operand
Try 'rm --help' for more information.
"#,
    0
);
dash_case!(
    mkdir_variants,
    r#"mkdir -p x/y/z; mkdir x/y 2>&1; mkdir -p x/y && echo ok; mkdir a/b 2>&1; touch f; mkdir -p f/g 2>&1; mkdir; echo "rc=$?""#,
    r#"mkdir: cannot create directory ‘x/y’: File exists
ok
mkdir: cannot create directory ‘a/b’: No such file or directory
mkdir: cannot create directory ‘f’: Not a directory
rc=1
"#,
    r#"mkdir: missing operand
Try 'mkdir --help' for more information.
"#,
    0
);
dash_case!(
    touch_chmod_symbolic,
    r#"touch f; chmod 0640 f; stat -c %a f; chmod g+w,o+r f; stat -c %a f; chmod a-r f; stat -c %a f; chmod u=rwx,go= f; stat -c %A f; chmod 4755 f; stat -c '%a %A' f"#,
    r#"640
664
220
-rwx------
4755 -rwsr-xr-x
"#,
    r#""#,
    0
);
dash_case!(
    test_string_ops,
    r#"[ "a" \< "b" ] && echo lt; [ -n "" ] || echo empty-n; [ "" ] || echo empty; [ x ] && echo nonempty; [ ! x ] || echo bang; [ 5 -ge 5 ] && echo ge; [ 5 -ne 4 ] && echo ne; test; echo "rc=$?"; [ \( 1 -eq 1 \) ] && echo paren"#,
    r#"lt
empty-n
empty
nonempty
bang
ge
ne
rc=1
paren
"#,
    r#""#,
    0
);
dash_case!(
    grep_more,
    r#"printf 'a1\nb2\na3\n' > f; printf 'a9\n' > g; grep a f g; grep -c a f g; grep -l a f g; grep -h a f g; grep -o '[0-9]' f; grep -w a1 f; grep -x 'b.' f; printf 'x\n' | grep -q y; echo "rc=$?""#,
    r#"f:a1
f:a3
g:a9
f:2
g:1
f
g
a1
a3
a9
1
2
3
a1
b2
rc=1
"#,
    r#""#,
    0
);
dash_case!(
    sed_more,
    r#"printf 'one\ntwo\nthree\n' > f; sed -n '$p' f; sed '2q' f; sed '/two/d' f; sed 's/e/E/2' f; sed -e 's/o/0/' -e 's/t/T/' f; sed 's/[aeiou]/_/g' f; sed 's/\(t\)\(.*\)/\2\1/' f"#,
    r#"three
one
two
one
three
one
two
threE
0ne
Tw0
Three
_n_
tw_
thr__
one
wot
hreet
"#,
    r#""#,
    0
);
dash_case!(
    cut_tr_more,
    r#"printf 'a,b,c\nd,e,f\n' | cut -d, -f2-; echo 'hello world' | cut -c1-5,7; echo 'a b c' | cut -d' ' -f2; echo HELLO | tr '[:upper:]' '[:lower:]'; echo 'a-b-c' | tr - _; printf 'a\n\n\nb\n' | tr -s '\n'"#,
    r#"b,c
e,f
hellow
b
hello
a_b_c
a
b
"#,
    r#""#,
    0
);
dash_case!(
    sort_more,
    r#"printf 'b 2\na 10\nc 1\n' | sort -k2 -n; printf 'B\na\nC\n' | sort; printf 'B\na\nC\n' | sort -f; printf 'x:3\ny:1\n' | sort -t: -k2; printf '3\n1\n2\n' | sort -r"#,
    r#"c 1
b 2
a 10
B
C
a
a
B
C
y:1
x:3
3
2
1
"#,
    r#""#,
    0
);
dash_case!(
    uniq_more,
    r#"printf 'a\na\nb\nc\nc\n' | uniq -d; printf 'a\na\nb\nc\nc\n' | uniq -u; printf 'a\nb\na\n' | sort | uniq -c"#,
    r#"a
c
b
      2 a
      1 b
"#,
    r#""#,
    0
);
dash_case!(
    head_tail_more,
    r#"printf '1\n2\n3\n' > f; printf '4\n5\n' > g; head -n 1 f g; tail -n 1 f g; printf 'no newline' | tail -c 4; echo; printf 'a\nb\nc' | head -n 2; printf 'a\nb\nc' | tail -n 1; echo"#,
    r#"==> f <==
1

==> g <==
4
==> f <==
3

==> g <==
5
line
a
b
c
"#,
    r#""#,
    0
);
dash_case!(
    wc_more,
    r#"printf 'a b c\nd\n' > f; printf 'x\n' > g; wc -l f g; wc -w f; wc -c f; printf '' | wc -l; echo hi | wc -c"#,
    r#" 2 f
 1 g
 3 total
4 f
8 f
0
3
"#,
    r#""#,
    0
);
dash_case!(
    seq_more,
    r#"seq 0; seq 5 1; seq -s, 1 4; seq -w 8 10; seq 1 0.5 2; seq 3 -1 1"#,
    r#"1,2,3,4
08
09
10
1.0
1.5
2.0
3
2
1
"#,
    r#""#,
    0
);
dash_case!(
    basename_dirname_more,
    r#"basename a/b/; basename /a/b// ; dirname a/b/; dirname //a//b//; dirname a; basename .bashrc .bashrc; basename x.tar.gz .gz"#,
    r#"b
b
a
//a
.
.bashrc
x.tar
"#,
    r#""#,
    0
);
dash_case!(
    find_more,
    r#"mkdir -p r/a/b; touch r/x.txt r/a/y.txt r/a/b/z.log; find r | sort; find r -type f -name '*.txt' | sort; find r -maxdepth 1 | sort; find r -mindepth 2 -type d; find nope; echo "rc=$?""#,
    r#"r
r/a
r/a/b
r/a/b/z.log
r/a/y.txt
r/x.txt
r/a/y.txt
r/x.txt
r
r/a
r/x.txt
r/a/b
rc=1
"#,
    r#"find: ‘nope’: No such file or directory
"#,
    0
);
dash_case!(
    xargs_more,
    r#"printf 'a b\nc\n' | xargs -n 1 echo x; echo | xargs echo empty; printf '1\n2\n3\n' | xargs -n 2"#,
    r#"x a
x b
x c
empty
1 2
3
"#,
    r#""#,
    0
);
dash_case!(
    tee_multiple,
    r#"echo data | tee a b > /dev/null; cat a b; echo more | tee -a a; cat a"#,
    r#"data
data
more
data
more
"#,
    r#""#,
    0
);
dash_case!(
    read_variants,
    r#"echo 'a b c d' | { read x y; echo "$x|$y"; }; echo 'only' | { read x y; echo "$x|$y|"; }; printf 'no-newline' | { read x; echo "rc=$? x=$x"; }; echo 'a\ b' | { read x; echo "$x"; }; echo 'a\ b' | { read -r x; echo "$x"; }; echo '  lead  trail  ' | { read x; echo "[$x]"; }"#,
    r#"a|b c d
only||
rc=1 x=no-newline
a b
a\ b
[lead  trail]
"#,
    r#""#,
    0
);
dash_case!(
    special_vars_misc,
    r#"echo $#; set -- 1 2 3 4 5 6 7 8 9 10; echo $1 ${10} $#; shift 3; echo $1 $#; shift 9; echo "rc=$?""#,
    r#"0
1 10 10
4 7
"#,
    r#"sh: 1: shift: can't shift that many
"#,
    2
);
dash_case!(
    command_v_type,
    r#"command -v echo; command -v cat; command -v nosuch; echo "rc=$?"; f() { :; }; command -v f; type cd"#,
    r#"echo
/usr/bin/cat
rc=127
f
cd is a shell builtin
"#,
    r#""#,
    0
);
dash_case!(
    unset_function,
    r#"f() { echo f; }; f; unset -f f; f; echo "rc=$?""#,
    r#"f
rc=127
"#,
    r#"sh: 1: f: not found
"#,
    0
);
dash_case!(
    string_ops_patterns,
    r#"p=/usr/local/lib/libfoo.so.1; echo ${p##*/} ${p%/*} ${p#/usr} ${p%.so*}; s="hello"; echo ${s#h*l} ${s##h*l} ${s%l*} ${s%%l*}; e=""; echo "[${e%x}]"; q='a*b'; echo ${q%\*b} "${q%"*b"}""#,
    r#"libfoo.so.1 /usr/local/lib /local/lib/libfoo.so.1 /usr/local/lib/libfoo
lo o hel he
[]
a a
"#,
    r#""#,
    0
);
dash_case!(
    glob_classes_and_noglob_quotes,
    r#"touch a1 a2 b1 '*'; echo a?; echo [ab]1; echo [!a]1; echo '*'; echo "a*"; echo a\*; echo [a-b]2; echo nomatch*"#,
    r#"a1 a2
a1 b1
b1
*
a*
a*
a2
nomatch*
"#,
    r#""#,
    0
);
dash_case!(
    subst_in_assign_no_split,
    r#"x="a   b"; y=$x; echo "$y"; z=$(echo "1   2"); echo "$z"; echo $z"#,
    r#"a   b
1   2
1 2
"#,
    r#""#,
    0
);
dash_case!(
    empty_and_spaces,
    r#"echo "" | wc -c; echo '' x; echo; x="   "; echo "[$x]"; echo [$x]"#,
    r#"1
 x

[   ]
[ ]
"#,
    r#""#,
    0
);
dash_case!(
    true_false_path,
    r#"/bin/true; echo $?; /bin/false; echo $?; /usr/bin/env echo env-echo"#,
    r#"0
1
env-echo
"#,
    r#""#,
    0
);
dash_case!(
    if_return_codes,
    r#"if false; then :; fi; echo "rc=$?"; if true; then false; fi; echo "rc=$?"; f() { if true; then return 9; fi; }; f; echo $?"#,
    r#"rc=0
rc=1
9
"#,
    r#""#,
    0
);
dash_case!(
    bang_and_pipe_status,
    r#"! echo a | grep -q b; echo $?; echo a | grep -q a | cat; echo $?"#,
    r#"0
0
"#,
    r#""#,
    0
);
dash_case!(
    sh_c_nested_quotes,
    r#"sh -c "echo \"double \$0\"" zero; sh -c 'x=1; echo $x; exit $((x+1))'; echo "rc=$?""#,
    r#"double zero
1
rc=2
"#,
    r#""#,
    0
);
dash_case!(
    date_more,
    r#"date -u -d @86399 '+%H %I %M %S %p %y %C %e %u %w %D %T %R'; date -u -d @1704067200 '+%A %B %-d %j'; date -u -d @1700000000 -R"#,
    r#"23 11 59 59 PM 70 19  1 4 4 01/01/70 23:59:59 23:59
Monday January 1 001
Tue, 14 Nov 2023 22:13:20 +0000
"#,
    r#""#,
    0
);
dash_case!(
    uname_id,
    r#"uname -s; uname -m; id -u; id -g; id -un; whoami"#,
    r#"Linux
x86_64
0
0
root
root
"#,
    r#""#,
    0
);
dash_case!(
    dash_rejects_bashisms,
    r#"set -o pipefail; echo never"#,
    r#""#,
    r#"sh: 1: set: Illegal option -o pipefail
"#,
    2
);
dash_case!(
    dash_no_double_brackets,
    r#"[[ a == a ]]; echo $?; echo {a,b}; echo $((x++))"#,
    r#"127
{a,b}
"#,
    r#"sh: 1: [[: not found
sh: 1: arithmetic expression: expecting primary: "x++"
"#,
    2
);
dash_case!(
    bad_substitution,
    r#"x=abc; echo ${x/a/b}; echo after"#,
    r#""#,
    r#"sh: 1: Bad substitution
"#,
    2
);
dash_case!(
    local_outside_function,
    r#"local x=1; echo never"#,
    r#""#,
    r#"sh: 1: local: not in a function
"#,
    2
);
dash_case!(
    trap_exit,
    r#"trap 'echo "bye $?"' EXIT; echo hi; exit 3"#,
    r#"hi
bye 3
"#,
    r#""#,
    3
);
dash_case!(
    trap_exit_normal,
    r#"trap "echo cleanup" 0; echo work"#,
    r#"work
cleanup
"#,
    r#""#,
    0
);
dash_case!(
    lineno_empty_in_dash,
    r#"echo "[$LINENO]""#,
    r#"[]
"#,
    r#""#,
    0
);
dash_case!(
    function_keyword,
    r#"function f { echo hi; }; f"#,
    r#""#,
    r#"sh: 1: Syntax error: "}" unexpected
"#,
    2
);
dash_case!(
    exec_redirect_persists,
    r#"echo before; exec 3>&1; exec > log 2>&1; echo after; ls nope; exec >&3 2>&3; cat log; echo done >&2"#,
    r#"before
after
ls: cannot access 'nope': No such file or directory
done
"#,
    r#""#,
    0
);
dash_case!(
    exec_stdin,
    r#"printf 'l1\nl2\n' > in; exec < in; read a; read b; echo "$b $a""#,
    r#"l2 l1
"#,
    r#""#,
    0
);
dash_case!(
    exec_in_subshell_only,
    r#"(exec > sub.txt; echo inner); echo outer; cat sub.txt"#,
    r#"outer
inner
"#,
    r#""#,
    0
);
dash_case!(
    heredoc_inside_compound,
    r#"if true; then
  cat <<EOF2
in if $((1+1))
EOF2
fi
for i in 1 2; do
  cat <<-EOF2
	loop $i
	EOF2
done
f() {
  cat <<'X'
in func $i
X
}
f"#,
    r#"in if 2
loop 1
loop 2
in func $i
"#,
    r#""#,
    0
);
dash_case!(
    multiline_script_like_ansible,
    r#"set -e
APP_DIR="$PWD/app"
mkdir -p "$APP_DIR/releases" "$APP_DIR/shared"
for r in 1 2 3; do
  mkdir -p "$APP_DIR/releases/r$r"
  echo "release $r" > "$APP_DIR/releases/r$r/VERSION"
done
ln -sfn "$APP_DIR/releases/r3" "$APP_DIR/current"
cat "$APP_DIR/current/VERSION"
ls "$APP_DIR/releases" | wc -l
if [ -L "$APP_DIR/current" ]; then echo "current -> $(basename "$(readlink "$APP_DIR/current")")"; fi
count=$(find "$APP_DIR/releases" -name VERSION | wc -l)
echo "count=$count"
rm -rf "$APP_DIR"
test -d "$APP_DIR" || echo "cleaned""#,
    r#"release 3
3
current -> r3
count=3
cleaned
"#,
    r#""#,
    0
);
dash_case!(
    config_edit_idempotent,
    r#"printf 'port=80\nhost=a\n' > app.conf
grep -q '^port=8080$' app.conf || sed -i 's/^port=.*/port=8080/' app.conf
grep -q '^debug=' app.conf || echo 'debug=false' >> app.conf
grep -q '^debug=' app.conf || echo 'debug=false' >> app.conf
cat app.conf"#,
    r#"port=8080
host=a
debug=false
"#,
    r#""#,
    0
);
dash_case!(
    syntax_error_midway,
    r#"echo one
echo two; fi
echo three"#,
    r#"one
"#,
    r#"sh: 2: Syntax error: "fi" unexpected
"#,
    2
);
dash_case!(
    unterminated_quote,
    r#"echo 'abc"#,
    r#""#,
    r#"sh: 1: Syntax error: Unterminated quoted string
"#,
    2
);
dash_case!(
    case_missing_esac,
    r#"case x in x) echo y;;"#,
    r#""#,
    r#"sh: 1: Syntax error: end of file unexpected (expecting ")")
"#,
    2
);
