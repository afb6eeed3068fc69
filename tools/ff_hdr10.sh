#!/bin/bash
# FFmpeg peer of `hdrvid convert --model none`: linearise BT.709, BT.2020 primaries, PQ, 10-bit, x265 fast crf 18, HDR10 signalling
in=$1; out=$2
ffmpeg -v error -y -i "$in" -vf "zscale=tin=bt709:min=bt709:pin=bt709:t=linear:npl=203,format=gbrpf32le,zscale=p=bt2020:t=smpte2084:m=bt2020nc:r=tv:npl=203,format=yuv420p10le" \
  -c:v libx265 -preset fast -crf 18 -x265-params "log-level=error:hdr10=1:repeat-headers=1:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:master-display=G(8500,39850)B(6550,2300)R(35400,14600)WP(15635,16450)L(10000000,1):max-cll=1000,400" \
  -color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc -c:a copy "$out"
