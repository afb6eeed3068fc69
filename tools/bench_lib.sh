# Shared by the tools/bench_session*.sh scripts (source it after cd-ing into the work folder):
#   FF       FFmpeg's peer of `convert --model none` (tools/ff_hdr10.sh)
#   T NAME CMD...   run CMD under /usr/bin/time, print "NAME wall s user s sys s peak KB"
#   tonemap_pairs   `tonemap` against FFmpeg's zscale + tonemap + libx264 medium at 1080p: hable three times,
#                   mobius and reinhard once
#   long_and_large  `none --max-cll` on the 20-second 1080p clip and `none` on the 2160p one, each beside FFmpeg
#   transcode_triples N   N times, 720p 48 frames: FFmpeg's peer, `none --max-cll 1000,400` (the peer's metadata
#                   work), `none` (measured light levels)
FF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ff_hdr10.sh"
# hdrvid as a user runs it: with its modules' bytecode cached. This machine's environment sets
# PYTHONDONTWRITEBYTECODE=1 and the checkout is an editable install, so without this every run compiles ~50
# modules from source first (0.15 s of CPU, 0.1-0.2 s of wall time per run, measured in session 15).
unset PYTHONDONTWRITEBYTECODE
python -m compileall -q "$(python -c 'import hdrvid, os; print(os.path.dirname(hdrvid.__file__))')" >/dev/null
T() { /usr/bin/time -f "$1 %e s %U user %S sys %M KB" "${@:2}" 2>&1 | grep -E "^$1 " ; }
FT="zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p"
tonemap_pairs() {
  for i in 1 2 3; do
    T fftm_hable ffmpeg -v error -y -i hdr1080.mp4 -vf "$FT" -c:v libx264 -preset medium -crf 18 -c:a copy fftm.mp4
    T tm_hable hdrvid -q tonemap hdr1080.mp4 tm1080.mp4 --operator hable --overwrite
  done
  for op in mobius reinhard; do
    T fftm_$op ffmpeg -v error -y -i hdr1080.mp4 -vf "${FT/hable/$op}" -c:v libx264 -preset medium -crf 18 -c:a copy fftm_$op.mp4
    T tm_$op hdrvid -q tonemap hdr1080.mp4 tm1080_$op.mp4 --operator $op --overwrite
  done
}

transcode_triples() {
  for i in $(seq "$1"); do
    T ff720 $FF bbb720.mp4 ff720.mp4
    T given720 hdrvid -q convert bbb720.mp4 given720.mp4 --model none --overwrite --max-cll 1000,400
    T none720 hdrvid -q convert bbb720.mp4 none720.mp4 --model none --overwrite
  done
}

long_and_large() {
  T ff1080 $FF bbb1080.mp4 ff1080.mp4
  T given1080 hdrvid -q convert bbb1080.mp4 given1080.mp4 --model none --overwrite --max-cll 1000,400
  T none2160 hdrvid -q convert bbb2160.mp4 none2160.mp4 --model none --overwrite
  T ff2160 $FF bbb2160.mp4 ff2160.mp4
}
