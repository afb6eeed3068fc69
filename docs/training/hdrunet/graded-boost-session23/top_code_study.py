import math, numpy as np, torch, json, sys
from pathlib import Path
from hdrvid.jobs.evaluate import eval_files, panorama_views, model_input
from hdrvid.io.images import read_hdr
from hdrvid.synth.camera import shoot
from hdrvid.models import build
torch.set_num_threads(1)
D=[Path('../shared/hdri-train/'+d) for d in ('pmndrs-1k','polyhaven-1k','blender-world')]
files=eval_files(D,'validation')
m=build('hdrunet-auto').eval()
views=int(sys.argv[1]); settings=('srgb-mid','hard','broadcast','consumer','graded')
rows=[]
pics=[]
for i,f in enumerate(files):
    pano=read_hdr(f)
    pics += [(f.stem,v) for v in panorama_views(pano, views, 384, [0,i,99])]
for i,(name,img) in enumerate(pics):
    for j,s in enumerate(settings):
        shot=shoot(img, np.random.default_rng([0,i,j]), s)
        x=model_input(shot.signal, shot.nominal)
        with torch.inference_mode():
            p=float(m.shoulder(x)[0])
        sig=shot.signal.astype(np.int32); mx=sig.max(-1)
        rows.append(dict(scene=name, i=i, s=s, p=p, at255=float((mx>=254).mean()), at250=float((mx>=250).mean()),
                         mean=float((sig/255.0).mean()), clipped=float(shot.clipped.mean()),
                         allthree=float((sig.min(-1)>=254).mean())))
json.dump(rows, open('/tmp/study/rows.json','w'))
