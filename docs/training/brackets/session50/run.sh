# session 50: brackets with its codec-block filter on graded frames too (the change hdrunet-auto shipped), measured
# with the filter's weight set to 0 in BracketHDR.apply (a local edit, not kept), five draws as session 43:
#   python docs/training/brackets/level-session42/level_eval.py 0 1 2   and   ... 3 4
# baseline: session 43's runs (brackets card, 32.32 / 27.34 / 28.93 / 24.62 clipped)
