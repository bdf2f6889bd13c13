# Random inventory + patterns generator for differential tests (see run.sh).
import random, os, sys, json
def rnd_val(r):
    return r.choice(['1','yes','"q s"',"'x'","[1, 2]",'{"a": 1}','1.5','False','None','abc','-3','0x1f','012','a=b','"{{ x }}"'])
def gen_ini(r, groups, hosts):
    lines=[]
    for h in r.sample(hosts, r.randint(0,2)):
        lines.append(h + (' v=%s' % rnd_val(r) if r.random()<.5 else ''))
    order = groups[:]; r.shuffle(order)
    for g in order:
        kind = r.choice(['hosts','hosts','children','vars'])
        if kind=='hosts':
            lines.append('[%s]'%g)
            for h in r.sample(hosts, min(len(hosts),r.randint(0,4))):
                extra=''
                if r.random()<.4: extra+=" v='%s'"%rnd_val(r).replace("'",'')
                if r.random()<.2: extra+=' w=%s'%rnd_val(r)
                lines.append(h+extra)
            if r.random()<.3: lines.append('%s[%d:%d]'%(g+'n', r.randint(0,2), r.randint(2,4)))
        elif kind=='children':
            lines.append('[%s:children]'%g)
            idx=groups.index(g)
            cands=[x for x in groups if groups.index(x)>idx]
            for c in r.sample(cands, min(len(cands), r.randint(0,3))): lines.append(c)
            lines.append('[%s]'%g)
        else:
            lines.append('[%s]'%g)
            lines.append('[%s:vars]'%g)
            for k in r.sample(['v','w','x','ansible_group_priority'], r.randint(1,3)):
                lines.append('%s=%s'%(k, str(r.randint(1,9)) if k=='ansible_group_priority' else rnd_val(r)))
    if r.random()<.5:
        lines.append('[all:vars]'); lines.append('v=allv'); lines.append('z=1')
    return '\n'.join(lines)+'\n'
def gen_yaml(r, groups, hosts):
    import yaml
    def grp(depth, avail):
        d={}
        if r.random()<.7:
            d['hosts']={h:(r.choice([None,{},{'v':r.randint(0,3)},{'w':'s','v':[1]}])) for h in r.sample(hosts, min(len(hosts),r.randint(0,3)))}
        if r.random()<.4: d['vars']={'v':r.choice([1,'x',{'a':1},[1,2],None,True])}
        if depth<3 and avail and r.random()<.6:
            d['children']={}
            for c in r.sample(avail, min(len(avail), r.randint(1,2))):
                i=groups.index(c)
                d['children'][c]=grp(depth+1,[x for x in groups if groups.index(x)>i]) if r.random()<.7 else None
        return d if d or r.random()<.5 else None
    top={}
    if r.random()<.7:
        top['all']={'children':{}, 'vars':{'v':'allv'}}
        for g in r.sample(groups, r.randint(1,len(groups))):
            i=groups.index(g); top['all']['children'][g]=grp(1,[x for x in groups if groups.index(x)>i])
    for g in r.sample(groups, r.randint(0,2)):
        i=groups.index(g); top[g]=grp(1,[x for x in groups if groups.index(x)>i])
    return yaml.safe_dump(top, sort_keys=False)
def gen_patterns(r, groups, hosts):
    atoms = groups+hosts+['all','*','ungrouped','g*','h?','~h[0-3]','~g','nope','localhost','*n*','[!g]*','g[0-2]','~^h\\d$','~(g|h)1','g*[0]','*[-1]','g?[1:]','~.','h[13]','all[0]','ungrouped[0]','~h(?=1)','~H','[gh]1', 'g1 ', ' h2']
    pats=set()
    for _ in range(14):
        n=r.randint(1,3); parts=[]
        for i in range(n):
            a=r.choice(atoms)
            if a in groups and r.random()<.3: a+=r.choice(['[0]','[-1]','[1:]','[0:1]','[1]','[2:3]'])
            if i>0: a=r.choice(['','&','!'])+a
            parts.append(a)
        p=r.choice([':',',',', '] ).join(parts)
        if r.random()<.1: p=p+','
        pats.add(p)
    return sorted(pats)
if __name__=='__main__':
    seed=int(sys.argv[1]); out=sys.argv[2]; r=random.Random(seed)
    groups=['g%d'%i for i in range(r.randint(2,6))]; hosts=['h%d'%i for i in range(r.randint(2,8))]
    os.makedirs(out, exist_ok=True)
    if r.random()<.5:
        open(os.path.join(out,'inventory.ini'),'w').write(gen_ini(r,groups,hosts))
    else:
        open(os.path.join(out,'inventory.yml'),'w').write(gen_yaml(r,groups,hosts))
    if r.random()<.6:
        os.makedirs(os.path.join(out,'group_vars'),exist_ok=True); os.makedirs(os.path.join(out,'host_vars'),exist_ok=True)
        for g in r.sample(groups+['all','ungrouped'], r.randint(1,3)):
            if r.random()<.3:
                os.makedirs(os.path.join(out,'group_vars',g),exist_ok=True)
                for fn in r.sample(['a.yml','b.yaml','c.json','d','e.txt'], 2):
                    open(os.path.join(out,'group_vars',g,fn),'w').write('{"v": "%s-%s", "f%s": 1}\n' % (g,fn,fn[0]))
            else:
                ext=r.choice(['.yml','.yaml','.json',''])
                open(os.path.join(out,'group_vars',g+ext),'w').write('v: gv_%s\nw: [1, 2]\nyes_: yes\n' % g)
        for h in r.sample(hosts, r.randint(0,2)):
            open(os.path.join(out,'host_vars',h+'.yml'),'w').write('v: hv_%s\n' % h)
    open(os.path.join(out,'patterns.txt'),'w').write('\n'.join(gen_patterns(r,groups,hosts))+'\n')
