import subprocess, sys, numpy as np
def pq_eotf(e):
    m1, m2, c1, c2, c3 = 0.1593017578125, 78.84375, 0.8359375, 18.8515625, 18.6875
    p = np.power(np.clip(e, 0, 1), 1 / m2)
    return 10000 * np.power(np.maximum(p - c1, 0) / (c2 - c3 * p), 1 / m1)
for f in sys.argv[1:]:
    w, h = map(int, subprocess.check_output(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", f]).decode().strip().strip(",").split(",")[:2])
    p = subprocess.Popen(["ffmpeg", "-v", "error", "-i", f, "-vf", "zscale=m=2020_ncl:r=limited:min=2020_ncl:rin=limited,format=gbrpf32le", "-f", "rawvideo", "-"], stdout=subprocess.PIPE)
    falls = []
    n = w * h * 3 * 4
    while True:
        b = p.stdout.read(n)
        if len(b) < n: break
        x = pq_eotf(np.frombuffer(b, np.float32).reshape(3, h, w))
        falls.append(x.max(0).mean())
    falls = np.array(falls)
    i = falls.argmax()
    print(f, len(falls), "MaxFALL %.0f at frame %d (%.1f s), median %.0f, p95 %.0f" % (falls[i], i, i / 10, np.median(falls), np.percentile(falls, 95)))
    np.save(f + ".fall.npy", falls)
