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
