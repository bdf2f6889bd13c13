# Expected host lists for patterns.txt through ansible-core's InventoryManager (see run.sh).
# expected outputs via the ansible API (one process): list/graph via CLI class, patterns via InventoryManager
import sys, os, json, io, contextlib
os.environ['ANSIBLE_HOST_PATTERN_MISMATCH']='ignore'
case=sys.argv[1]; os.chdir(case)
inv_file=[n for n in ('inventory.ini','inventory.yml') if os.path.exists(n)][0]
from ansible.parsing.dataloader import DataLoader
from ansible.inventory.manager import InventoryManager
from ansible.errors import AnsibleError
res={}
for pat in [l.rstrip('\n') for l in open('patterns.txt') if l.strip()]:
    im=InventoryManager(loader=DataLoader(), sources=[inv_file])
    try: hosts=[str(h) for h in im.list_hosts(pat)]
    except Exception as e: hosts=[]
    res[pat]={'hosts':hosts,'ordered':True}
os.makedirs('expected',exist_ok=True)
json.dump(res, open('expected/patterns.json','w'), indent=1)
