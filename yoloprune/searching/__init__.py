"""``yolo-prune search``: the fastest model within an accuracy budget (:func:`search.search`).

config     SearchConfig, the one frozen config of a search
trial      TrialSpec (what one trial tries), Trial (what it reached) and the trial function itself
sampler    which trial comes next: a bracket of amounts, then bisection at the budget and recipe variants there
halving    successive halving on the validation mAP: which running trials stop early
front      the Pareto front (measured latency vs mAP50-95) and the recommendation
runners    the trials one after another here, or on Ray Tune (a local instance or a cluster)
report     search.json, pareto.png and the table
search     the verb
"""
