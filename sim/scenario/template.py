"""The commented starting point `sim new` writes."""

from __future__ import annotations

TEMPLATE = """\
# {name}: a scenario to edit. Check it with `sim validate`, run it with `sim run`.
# Months are YYYY-MM; quantities are t/yr of the processed product. Field reference: docs/model.md
# ("Scenario files"); `sim schema` prints the JSON Schema for editors.
name: {name}
extends: {parent}
description: >
  What question does this scenario ask? Say it here in a sentence or two a workshop participant
  understands.
sources: []            # briefs in seeds/ it draws on, e.g. [al_circle_2026_us_minerals_shift]
# horizon_months: 120
# seed: 1
# policies:
#   priority_rating: true        # defence served first
#   funders_respond: true        # standing federal programmes commit their budgets
# world:                         # override any default figure, e.g.
#   minerals:
#     antimony: {{stockpile_t: 2000}}
events: []
# Remove the [] above and uncomment the events you want:
# events:
#   - type: export_restriction
#     exporter: China
#     minerals: [antimony, tungsten]
#     destinations: [United States]     # or [all]
#     kind: ban                         # ban | quota | licensing
#     start: 2026-03
#     leakage: 0.10                     # or a distribution: {{uniform: [0.05, 0.2]}}
#   - type: power_price_shock
#     multiplier: 1.8
#     start: 2026-06
#     months: 12
#   - type: demand_shock
#     minerals: [copper, aluminium]
#     multiplier: 1.08
#     start: 2026-01
#   - type: allied_supply
#     country: Malaysia
#     mineral: ndpr
#     t_per_yr: 2000
#     start: 2026-06
#   - type: funding_programme
#     name: my_programme
#     instrument: grant                 # grant | loan | offtake | stockpile
#     annual_budget_usd: 5.0e8
#     minerals: [antimony]
#     start: 2026-01
#   - type: stockpile_release
#     minerals: [antimony]
#     t_per_yr: 3000
#     start: 2026-03
#     months: 12
"""


def scenario_template(name: str, parent: str) -> str:
    return TEMPLATE.format(name=name, parent=parent)
