"""Equations of the integrated ``regional_cluster`` model (used by ``build_regional_model.py``).

Each equation is ``(left-hand side, right-hand side, unit, description)``; ``[Region]`` subscripts
every regional variable. The data block (initial values, state-specific drivers, the exchange
matrix, the national cycle) is written by ``build_regional_model.py`` from the panel.
"""

from __future__ import annotations

Equation = tuple[str, str, str, str]

R = "[Region]"

CONTROL: list[Equation] = [
    ("INITIAL TIME", "1970", "Year", "The initial time for the simulation."),
    ("FINAL TIME", "2000", "Year", "The final time for the simulation."),
    ("TIME STEP", "0.25", "Year [0,?]", "The time step for the simulation."),
    ("SAVEPER", "1", "Year [0,?]", "The frequency with which output is stored."),
]

LEVERS: list[Equation] = [
    ("public investment share", "0", "Dmnl",
     "Lever: programme public investment as a share of output, from investment start time (no policy: 0)."),
    ("investment start time", "1975", "Year", "Lever: year the cluster programme starts."),
    ("knowledge sharing intensity", "0", "Dmnl",
     "Lever: intensity of the within-cluster knowledge-sharing programme, which builds network density "
     "(no policy: 0)."),
    ("between cluster exchange intensity", "0", "Dmnl",
     "Lever: between-cluster exchange programme, scaling the baseline exchange by (1 + intensity) "
     "(no policy: 0)."),
    ("sme representation quota", "0", "Dmnl",
     "Lever: minimum SME share of seats in cluster governance once engagement starts (no policy: 0)."),
    ("engagement effort", "0", "Dmnl",
     "Lever: effort of early, collective stakeholder engagement, scaling SME recruitment (no policy: 0)."),
    ("engagement start delay", "0", "Year",
     "Lever: years between investment start and stakeholder engagement start (0 = early)."),
    ("sme support", "0", "Dmnl",
     "Lever: fractional cut of the start-up and young-SME hazards from investment start time (no policy: 0)."),
    ("programme coverage" + R, "1", "Dmnl",
     "1 in the regions the programme covers, 0 elsewhere (every region by default; set per region for a "
     "place-based programme)."),
    ("programme switch" + R, "programme coverage[Region] * STEP(1, investment start time)", "Dmnl",
     "1 once the cluster programme has started in a covered region, else 0."),
    ("engagement switch" + R,
     "programme coverage[Region] * STEP(1, investment start time + engagement start delay)", "Dmnl",
     "1 once stakeholder engagement has started in a covered region, else 0."),
]

COSTS: list[Equation] = [
    ("sme support cost per firm", "0.02", "USD million/(firm*Year)",
     "Assumed: cost of supporting one start-up or young SME for a year at full support (0.005-0.05; Holzer "
     "et al. 1993 training grants averaged about 0.012 per firm in 1982 prices)."),
    ("sharing cost per sme", "0.001", "USD million/(firm*Year)",
     "Assumed: cost per SME and year of the knowledge-sharing programme at intensity 1 (0.0002-0.005)."),
    ("engagement cost per sme", "0.0005", "USD million/(firm*Year)",
     "Assumed: cost per SME and year of stakeholder engagement at effort 1 (0.0001-0.002)."),
    ("quota cost per sme", "0.0002", "USD million/(firm*Year)",
     "Assumed: governance administration per SME and year of a full SME quota (0.00005-0.001)."),
    ("exchange cost share", "0.01", "Dmnl",
     "Assumed: cost of the exchange programme at intensity 1 as a share of R&D spending (0.002-0.05)."),
    ("programme public spend" + R, "public investment share * programme switch[Region] * output[Region]",
     "USD million/Year", "Public investment appropriated by the cluster programme."),
    ("sme support cost" + R,
     "sme support * programme switch[Region] * sme support cost per firm * (start ups[Region] + young smes[Region])",
     "USD million/Year", "Cost of SME support (a grant to every start-up and young SME)."),
    ("sharing programme cost" + R,
     "knowledge sharing intensity * programme switch[Region] * sharing cost per sme * sme firms[Region]",
     "USD million/Year", "Cost of the within-cluster knowledge-sharing programme."),
    ("exchange programme cost" + R,
     "between cluster exchange intensity * programme switch[Region] * exchange cost share * rd spending[Region]",
     "USD million/Year", "Cost of the between-cluster exchange programme."),
    ("governance cost" + R,
     "engagement switch[Region] * (engagement effort * engagement cost per sme + sme representation quota * "
     "quota cost per sme) * sme firms[Region]",
     "USD million/Year", "Cost of stakeholder engagement and of administering the SME quota."),
    ("programme cost" + R,
     "programme public spend[Region] + sme support cost[Region] + sharing programme cost[Region] + "
     "exchange programme cost[Region] + governance cost[Region]",
     "USD million/Year", "Spending of the cluster programme on all its levers."),
    ("cumulative programme cost" + R, "INTEG(programme cost[Region], 0)", "USD million",
     "Programme spending on all levers since INITIAL TIME."),
    ("total cumulative programme cost", "INTEG(SUM(programme cost[Region!]), 0)", "USD million",
     "Programme spending on all levers since INITIAL TIME, all regions."),
    ("cumulative public spend" + R, "INTEG(programme public spend[Region], 0)", "USD million",
     "Programme public investment appropriated since INITIAL TIME."),
]

DRIVERS: list[Equation] = [
    ("driver convergence time", "5", "Year",
     "Assumed: after the panel ends, state-specific trends converge to the national ones with this time (2-10)."),
    ("long run labour force growth", "0.01", "1/Year",
     "Literature: US civilian labour force growth 1986-2016, about 1 %/yr (BLS); 0.005-0.015."),
    ("driver weight",
     "MIN(1, EXP((panel end year - Time) / driver convergence time))", "Dmnl",
     "1 during the panel, then decaying: weight of the state-specific part of each trend."),
    ("labour force growth" + R,
     "long run labour force growth + (labour force trend growth[Region] - long run labour force growth) * "
     "driver weight", "1/Year", "Growth of the labour force without migration."),
    ("public capital growth" + R,
     "national public capital trend growth + (public capital trend growth[Region] - "
     "national public capital trend growth) * driver weight", "1/Year", "Trend growth of baseline public capital."),
    ("tfp trend growth" + R,
     "INITIAL(output trend growth[Region] - output elasticity of private capital * private capital trend growth"
     "[Region] - output elasticity of public capital * public capital trend growth[Region] - output elasticity of "
     "labour * employment trend growth[Region])",
     "1/Year", "Solow residual of the state's 1970-86 trends at the model's elasticities."),
    ("national tfp trend growth", "INITIAL(SUM(tfp trend growth[Region!]) / SUM(one[Region!]))", "1/Year",
     "Mean TFP trend over the regions."),
    ("one" + R, "1", "Dmnl", "1 for every region (counts regions)."),
    ("tfp growth" + R,
     "national tfp trend growth + (tfp trend growth[Region] - national tfp trend growth) * driver weight",
     "1/Year", "TFP growth of the region."),
    ("capital deepening" + R,
     "(private capital trend growth[Region] - output trend growth[Region]) * driver weight", "1/Year",
     "Growth of the private investment rate: the state's capital deepening of 1970-86, fading afterwards."),
    ("labour productivity trend growth" + R, "INITIAL(output trend growth[Region] - employment trend growth[Region])",
     "1/Year", "Trend growth of output per job of the state, 1970-86."),
    ("national labour productivity trend growth",
     "INITIAL(SUM(labour productivity trend growth[Region!]) / SUM(one[Region!]))", "1/Year",
     "Mean trend growth of output per job over the regions."),
    ("labour productivity growth" + R,
     "national labour productivity trend growth + (labour productivity trend growth[Region] - national labour "
     "productivity trend growth) * driver weight", "1/Year", "Trend growth of output per job of the region."),
    ("labour productivity trend index" + R,
     "INTEG(labour productivity trend index[Region] * labour productivity growth[Region], 1)", "Dmnl",
     "Trend output per job relative to INITIAL TIME (an exogenous driver: labour demand is measured against it)."),
    ("tfp trend index" + R, "INTEG(tfp trend index[Region] * tfp growth[Region], 1)", "Dmnl",
     "Exogenous TFP relative to INITIAL TIME."),
    ("investment rate index" + R, "INTEG(investment rate index[Region] * capital deepening[Region], 1)", "Dmnl",
     "Private investment rate relative to INITIAL TIME."),
]

INVESTMENT: list[Equation] = [
    ("output elasticity of private capital", "0.292", "Dmnl",
     "alpha. Estimated by scripts/calibrate_regional_model.py (ce.parameters_from_estimates): within-state "
     "(state effects) OLS of log gsp on the us_states panel 1970-86, 0.292 (s.e. 0.063, clustered); pooled "
     "OLS 0.309 (the pooled scenario; Munnell 1990: 0.31)."),
    ("output elasticity of labour", "0.768", "Dmnl",
     "beta. Estimated by scripts/calibrate_regional_model.py (ce.parameters_from_estimates): within-state "
     "OLS on the us_states panel 1970-86, 0.768 (s.e. 0.083); pooled OLS 0.594 (Munnell 1990: 0.59)."),
    ("output elasticity of public capital", "0", "Dmnl",
     "gamma. Estimated by scripts/calibrate_regional_model.py (ce.parameters_from_estimates): within-state "
     "OLS on the us_states panel 1970-86, -0.026 (s.e. 0.061), set to its lower bound 0 (Holtz-Eakin 1994: "
     "about 0 with state effects); pooled OLS 0.155 (the pooled scenario; Munnell 1990: 0.15)."),
    ("public capital depreciation rate", "0.03", "1/Year", "Literature: Kamps (2004), 0.025-0.04."),
    ("private capital depreciation rate", "0.06", "1/Year", "Literature: Kamps (2004), 0.0425-0.085."),
    ("public capital replacement ratio", "1", "Dmnl",
     "Assumed: baseline public investment as a multiple of what keeps public capital on its trend (0-1.5)."),
    ("construction time", "3", "Year", "Assumed: average construction delay of public capital (2-5)."),
    ("budget spending time", "1", "Year", "Assumed: average time from appropriation to spending (0.5-2)."),
    ("fit elasticity of public capital", "0.5", "Dmnl",
     "Assumed: elasticity of the programme capital's fit to the alignment when it is committed (0-1)."),
    ("attractiveness perception time", "2", "Year", "Assumed: time to perceive attractiveness (1-4)."),
    ("public capital elasticity of attractiveness", "1", "Dmnl",
     "Assumed: elasticity of attractiveness to effective public capital relative to its baseline (0-2)."),
    ("attractiveness elasticity of private investment", "0.5", "Dmnl",
     "Assumed: elasticity of private investment to perceived attractiveness (0-1)."),
    ("baseline public investment" + R,
     "public capital replacement ratio * (public capital depreciation rate + public capital growth[Region]) * "
     "baseline public capital[Region]",
     "USD million/Year", "Public investment besides the programme: keeps public capital on the state's trend."),
    ("baseline public capital" + R,
     "INTEG(baseline public investment[Region] - public capital depreciation rate * baseline public capital[Region],"
     " initial public capital[Region])", "USD million", "Public capital without the programme."),
    ("programme budget" + R, "INTEG(programme public spend[Region] - programme spending[Region], 0)",
     "USD million", "Appropriated programme investment not yet spent."),
    ("programme spending" + R, "programme budget[Region] / budget spending time", "USD million/Year",
     "Programme investment spent, starting construction."),
    ("alignment fit" + R, "alignment[Region] ^ fit elasticity of public capital", "Dmnl",
     "Share of programme spending that fits the stakeholders' needs (at most 1; the rest is wasted)."),
    ("programme capital under construction" + R,
     "INTEG(programme spending[Region] - programme completion[Region], 0)", "USD million",
     "Programme capital under construction, at cost."),
    ("programme completion" + R, "programme capital under construction[Region] / construction time",
     "USD million/Year", "Programme capital completed, at cost."),
    ("fitting capital under construction" + R,
     "INTEG(programme spending[Region] * alignment fit[Region] - fitting completion[Region], 0)", "USD million",
     "Co-flow: the part of programme capital under construction that fits needs (fit at commitment)."),
    ("fitting completion" + R, "fitting capital under construction[Region] / construction time",
     "USD million/Year", "Co-flow: fitting completion."),
    ("programme public capital" + R,
     "INTEG(programme completion[Region] - public capital depreciation rate * programme public capital[Region], 0)",
     "USD million", "Public capital built by the programme, at cost."),
    ("effective programme capital" + R,
     "INTEG(fitting completion[Region] - public capital depreciation rate * effective programme capital[Region], 0)",
     "USD million", "Co-flow: programme public capital that fits needs (never more than the capital at cost)."),
    ("programme alignment fit" + R, "XIDZ(effective programme capital[Region], programme public capital[Region], 1)",
     "Dmnl", "Average fit of the programme's public capital."),
    ("public capital" + R, "baseline public capital[Region] + programme public capital[Region]", "USD million",
     "Public capital stock K_g at cost (maps to pcap)."),
    ("effective public capital" + R, "baseline public capital[Region] + effective programme capital[Region]",
     "USD million", "Public capital as it enters production: the programme's only as far as it fits."),
    ("indicated attractiveness" + R,
     "MIN(maximum attractiveness, (effective public capital[Region] / baseline public capital[Region]) ^ "
     "public capital elasticity of attractiveness)", "Dmnl",
     "Attractiveness to investors and founders relative to the no-programme path, bounded: without the bound the "
     "loop output -> programme capital -> attractiveness -> private investment -> output explodes."),
    ("maximum attractiveness", "3", "Dmnl",
     "Assumed: attractiveness at most triples against the no-programme path (2-5)."),
    ("perceived attractiveness" + R,
     "INTEG((indicated attractiveness[Region] - perceived attractiveness[Region]) / attractiveness perception time,"
     " 1)", "Dmnl", "Attractiveness as perceived by investors and SME founders (first-order smooth)."),
    ("private investment rate" + R,
     "INITIAL((private capital depreciation rate + private capital trend growth[Region]) * "
     "initial private capital[Region] / initial output[Region])",
     "Dmnl", "Private investment as a share of output at INITIAL TIME (keeps the state's 1970-86 trend)."),
    ("private investment" + R,
     "private investment rate[Region] * investment rate index[Region] * output[Region] * "
     "perceived attractiveness[Region] ^ attractiveness elasticity of private investment",
     "USD million/Year", "Private investment, driven by output and attractiveness."),
    ("private capital" + R,
     "INTEG(private investment[Region] - private capital depreciation rate * private capital[Region], "
     "initial private capital[Region])", "USD million", "Private capital stock K_p (maps to pc)."),
    ("base total factor productivity" + R,
     "INITIAL(initial output[Region] / (initial private capital[Region] ^ output elasticity of private capital"
     " * initial public capital[Region] ^ output elasticity of public capital"
     " * initial employment[Region] ^ output elasticity of labour))",
     "Dmnl", "TFP A0 that reproduces output at INITIAL TIME."),
    ("total factor productivity" + R,
     "base total factor productivity[Region] * tfp trend index[Region] * knowledge effect on tfp[Region]", "Dmnl",
     "TFP: exogenous trend times the effect of knowledge beyond what own R&D sustains."),
    ("output" + R,
     "total factor productivity[Region] * private capital[Region] ^ output elasticity of private capital"
     " * effective public capital[Region] ^ output elasticity of public capital"
     " * employment[Region] ^ output elasticity of labour",
     "USD million/Year", "Value added Y = A K_p^alpha K_g^gamma L^beta (maps to gsp)."),
]

SME: list[Equation] = [
    ("sme birth rate", "0.14", "1/Year",
     "Calibrated by scripts/calibrate_regional_model.py (ce.calibrate: trajectory fit to the us_states "
     "panel 1970-80, log residuals, 1981-86 held out): 0.14 (s.e. 0.009), at the upper bound of 0.08-0.14 "
     "(Decker et al. 2014 give about 0.12-0.13 around 1980, Eurostat about 0.09)."),
    ("start up hazard", "0.21", "1/Year",
     "Literature: hazard in the first year; with the young hazard a cohort survives 81 % after 1 year and 44 % "
     "after 5 (Eurostat), 0.18-0.25."),
    ("young sme hazard", "0.22", "1/Year",
     "Literature: hazard from age 1 to 5, matching Eurostat's 44 % five-year survival with the start-up hazard, "
     "0.18-0.26."),
    ("start up time", "1", "Year", "A start-up is a firm in its first year (Eurostat's one-year survival)."),
    ("maturation time", "4", "Year", "Literature: a young SME (age 1-5) matures after 4 more years (Eurostat)."),
    ("mature sme death rate", "0.06", "1/Year", "Literature: mature-firm death rate, Eurostat 0.05-0.07."),
    ("large firm exit rate", "0.03", "1/Year", "Assumed: exit rate of large firms (0.01-0.05)."),
    ("start up size", "3", "jobs/firm", "Assumed: jobs per start-up (1-5)."),
    ("young sme size", "6", "jobs/firm", "Assumed: jobs per young SME (3-10)."),
    ("mature sme size", "15", "jobs/firm", "Assumed: jobs per mature SME (10-40; fewer than 250 by definition)."),
    ("large firm size", "1000", "jobs/firm",
     "Assumed: jobs per large firm (250-3000; 250 or more by definition)."),
    ("jobs per thousand jobs", "1000", "jobs/thousand jobs", "Unit conversion."),
    ("initial sme employment share", "0.6", "Dmnl",
     "Literature: SME share of employment, OECD SME and Entrepreneurship Outlook 2019 (about 60 %)."),
    ("attractiveness elasticity of births", "0.3", "Dmnl",
     "Assumed: elasticity of SME births to attractiveness (0-1)."),
    ("knowledge elasticity of births", "0.05", "Dmnl",
     "Assumed: elasticity of SME births to the SMEs' share of regional knowledge (0-0.2)."),
    ("saturation elasticity", "0.5", "Dmnl",
     "Assumed: elasticity of births per SME to market capacity per SME (0-0.9; below 1 so no SMEs, no births)."),
    ("sme capacity ceiling", "2", "Dmnl",
     "Assumed: most SMEs the market can hold, as a multiple of market capacity (1.5-3)."),
    ("output elasticity of labour demand", "0.005", "Dmnl",
     "Literature: elasticity of the jobs firms want to output at trend productivity; 1 under constant "
     "returns (conditional labour demand proportional to output, Hamermesh 1993 ch. 2). Held fixed: the "
     "panel does not identify it (free, ce.calibrate gives a standard error of 1.1 over its range 0-1)."),
    ("employment persistence", "0.65", "Dmnl",
     "Estimated by scripts/calibrate_regional_model.py (ce.parameters_from_estimates): rho, coefficient of "
     "lagged employment of the two-step Arellano and Bond (1991) equation (Table 4) on uk_firms, 0.629 "
     "(s.e. 0.193); 0.6-0.7."),
    ("employment adjustment time", "-1 / LN(employment persistence)", "Year",
     "tau_E = -1/ln(rho): time for employment to adjust to desired employment."),
    ("start up births share", "1 / (start up hazard + 1 / start up time)", "Year",
     "Start-ups per unit birth flow in the chain's equilibrium."),
    ("young births share", "start up births share / start up time / (young sme hazard + 1 / maturation time)",
     "Year", "Young SMEs per unit birth flow in the chain's equilibrium."),
    ("initial large firms" + R,
     "INITIAL(initial structural employment[Region] * (1 - initial sme employment share) * jobs per thousand jobs /"
     " large firm size)", "firm", "Large firms at INITIAL TIME."),
    ("initial sme births" + R,
     "INITIAL((initial structural employment[Region] * initial sme employment share * jobs per thousand jobs + "
     "mature sme size * large firm exit rate * initial large firms[Region] / mature sme death rate) / "
     "(start up size * start up births share + young sme size * young births share + mature sme size * "
     "young births share / (maturation time * mature sme death rate)))",
     "firm/Year", "SME births that keep the ageing chain in equilibrium at INITIAL TIME with 1970 SME jobs."),
    ("initial mature smes" + R,
     "INITIAL((initial sme births[Region] * young births share / maturation time - large firm exit rate * "
     "initial large firms[Region]) / mature sme death rate)", "firm", "Mature SMEs at INITIAL TIME."),
    ("scale up rate" + R,
     "INITIAL(large firm exit rate * initial large firms[Region] / initial mature smes[Region])", "1/Year",
     "Mature SMEs growing past 250 jobs per year: the rate that replaces large-firm exits at INITIAL TIME."),
    ("initial sme firms" + R,
     "INITIAL(initial sme births[Region] * (start up births share + young births share) + "
     "initial mature smes[Region])", "firm", "SMEs at INITIAL TIME."),
    ("start ups" + R,
     "INTEG(sme births[Region] - start up deaths[Region] - graduation[Region], "
     "initial sme births[Region] * start up births share)", "firm", "SMEs in their first year."),
    ("young smes" + R,
     "INTEG(graduation[Region] - young sme deaths[Region] - maturation[Region], "
     "initial sme births[Region] * young births share)", "firm", "SMEs aged 1 to 5 years."),
    ("mature smes" + R,
     "INTEG(maturation[Region] - mature sme deaths[Region] - scale up[Region], initial mature smes[Region])",
     "firm", "SMEs 5 years and older."),
    ("large firms" + R, "INTEG(scale up[Region] - large firm exits[Region], initial large firms[Region])",
     "firm", "Large firms (250 or more employees)."),
    ("sme firms" + R, "start ups[Region] + young smes[Region] + mature smes[Region]", "firm", "All SMEs."),
    ("output per trend job" + R,
     "output[Region] / cycle factor[Region] ^ output elasticity of labour / (initial output[Region] * "
     "labour productivity trend index[Region])", "Dmnl",
     "Output net of the national cycle and of the state's trend labour productivity, relative to INITIAL TIME: "
     "the jobs output needs at trend productivity (it follows the employment trend without a programme and "
     "rises with what a programme adds to output)."),
    ("demand index" + R,
     "(labour force[Region] / initial labour force[Region]) ^ (1 - output elasticity of labour demand) * "
     "output per trend job[Region] ^ output elasticity of labour demand", "Dmnl",
     "Size of the regional market for jobs relative to INITIAL TIME: local labour force (jobs follow people) and "
     "the jobs output needs at trend productivity (jobs follow output), weighted by the output elasticity of "
     "labour demand."),
    ("sme market capacity" + R, "initial sme firms[Region] * demand index[Region]", "firm",
     "Number of SMEs the regional market supports."),
    ("attractiveness effect on births" + R,
     "perceived attractiveness[Region] ^ attractiveness elasticity of births", "Dmnl",
     "Effect of attractiveness on births (1 without the programme)."),
    ("knowledge effect on births" + R,
     "(sme knowledge share[Region] / initial sme knowledge share) ^ knowledge elasticity of births", "Dmnl",
     "Effect of the SMEs' share of regional knowledge on births (1 at INITIAL TIME)."),
    ("market room effect on births" + R,
     "MAX(0, MIN(1, (sme capacity ceiling - sme firms[Region] / sme market capacity[Region]) / "
     "(sme capacity ceiling - 1)))", "Dmnl",
     "Logistic limit: 1 up to market capacity, falling to 0 as SMEs reach the capacity ceiling."),
    ("sme births" + R,
     "sme birth rate * attractiveness effect on births[Region] * knowledge effect on births[Region] * "
     "sme firms[Region] ^ (1 - saturation elasticity) * sme market capacity[Region] ^ saturation elasticity * "
     "market room effect on births[Region]", "firm/Year",
     "New SMEs: b S (capacity / S)^e room (R entrepreneurship; B saturation; B market room)."),
    ("births per sme" + R, "ZIDZ(sme births[Region], sme firms[Region])", "1/Year", "SME births per SME."),
    ("hazard cut" + R, "1 - sme support * programme switch[Region]", "Dmnl", "Hazard after SME support, relative."),
    ("start up deaths" + R, "start up hazard * hazard cut[Region] * start ups[Region]", "firm/Year",
     "Deaths of start-ups (B failure)."),
    ("graduation" + R, "start ups[Region] / start up time", "firm/Year", "Start-ups entering their second year."),
    ("young sme deaths" + R, "young sme hazard * hazard cut[Region] * young smes[Region]", "firm/Year",
     "Deaths of young SMEs (B failure)."),
    ("maturation" + R, "young smes[Region] / maturation time", "firm/Year", "Young SMEs becoming mature."),
    ("mature sme deaths" + R, "mature sme death rate * mature smes[Region]", "firm/Year", "Deaths of mature SMEs."),
    ("scale up" + R, "scale up rate[Region] * mature smes[Region]", "firm/Year", "Mature SMEs growing large."),
    ("large firm exits" + R, "large firm exit rate * large firms[Region]", "firm/Year", "Exits of large firms."),
    ("desired sme employment" + R,
     "(start ups[Region] * start up size + young smes[Region] * young sme size + mature smes[Region] * "
     "mature sme size) / jobs per thousand jobs * wage effect on hiring[Region]",
     "thousand jobs", "Jobs the SMEs want to fill at the current relative wage."),
    ("desired large firm employment" + R,
     "large firms[Region] * large firm size / jobs per thousand jobs * demand index[Region] * "
     "wage effect on hiring[Region]", "thousand jobs", "Jobs the large firms want to fill."),
    ("labour demand" + R, "desired sme employment[Region] + desired large firm employment[Region]",
     "thousand jobs", "Jobs SMEs and large firms want to fill."),
]

LABOUR: list[Equation] = [
    ("minimum unemployment fraction", "0.005", "Dmnl",
     "Assumed: frictional unemployment below which firms cannot hire (0-0.02)."),
    ("wage flexibility", "2.69", "1/Year",
     "Calibrated by scripts/calibrate_regional_model.py (ce.calibrate: trajectory fit to the us_states "
     "panel 1970-80, log residuals, 1981-86 held out): fall of the relative wage per year per unit of "
     "excess unemployment, 5.40 (s.e. 0.39), with the wage elasticity of labour demand held at 0.3 (only "
     "their product is identified); 0.2-6 (above about 6.5 the wage loop is unstable with 1-year Euler steps)."),
    ("wage elasticity of labour demand", "0.688", "Dmnl",
     "Literature: own-wage elasticity of labour demand at constant output, Hamermesh (1993, Labor Demand, "
     "ch. 3): 0.15-0.75, best guess 0.3; held there because the panel identifies only its product with the "
     "wage flexibility (estimates correlated -1)."),
    ("migration response", "0.299", "1/Year",
     "Calibrated by scripts/calibrate_regional_model.py (ce.calibrate: trajectory fit to the us_states "
     "panel 1970-80, log residuals, 1981-86 held out): net in-migration per year, as a share of the labour "
     "force, per unit unemployment gap to the national mean, 0.10 (s.e. 0.13), at the lower bound of "
     "0.1-0.6 (Blanchard and Katz 1992: gaps close in 5-7 years, mostly through migration)."),
    ("labour availability" + R,
     "MIN(1, XIDZ((1 - minimum unemployment fraction) * labour force[Region], labour demand[Region], 1))",
     "Dmnl", "Share of desired jobs the labour force can fill (B labour constraint)."),
    ("sme structural employment" + R,
     "INTEG((desired sme employment[Region] * labour availability[Region] - sme structural employment[Region]) "
     "/ employment adjustment time + labour force growth[Region] * sme structural employment[Region], "
     "initial structural employment[Region] * initial sme employment share)",
     "thousand jobs",
     "SME jobs net of the national cycle; hiring anticipates the trend growth of the labour force."),
    ("large firm structural employment" + R,
     "INTEG((desired large firm employment[Region] * labour availability[Region] - large firm structural "
     "employment[Region]) / employment adjustment time + labour force growth[Region] * large firm structural "
     "employment[Region], initial structural employment[Region] * "
     "(1 - initial sme employment share))", "thousand jobs", "Large-firm jobs net of the national cycle."),
    ("structural employment" + R, "sme structural employment[Region] + large firm structural employment[Region]",
     "thousand jobs", "Jobs net of the national cycle."),
    ("initial labour force" + R, "INITIAL(initial employment[Region] / (1 - initial unemployment rate[Region] / 100))",
     "thousand jobs", "Labour force at INITIAL TIME."),
    ("initial structural employment" + R,
     "INITIAL(initial labour force[Region] * (1 - initial structural unemployment[Region]))", "thousand jobs",
     "Structural employment at INITIAL TIME."),
    ("initial structural unemployment" + R,
     "INITIAL(initial unemployment rate[Region] / (initial unemployment rate[Region] + (100 - initial "
     "unemployment rate[Region]) * state unemployment cycle index[Region]))", "Dmnl",
     "Structural unemployment at INITIAL TIME: the 1970 rate with the national cycle taken out."),
    ("labour force" + R,
     "INTEG(labour force growth[Region] * labour force[Region] + net migration[Region], initial labour force[Region])",
     "thousand jobs", "Labour force (in thousand jobs of labour supply)."),
    ("structural unemployment" + R, "MAX(0, 1 - structural employment[Region] / labour force[Region])", "Dmnl",
     "Unemployment fraction net of the national cycle."),
    ("excess unemployment" + R, "structural unemployment[Region] - natural unemployment rate[Region] / 100", "Dmnl",
     "Structural unemployment above the state's natural rate."),
    ("national excess unemployment",
     "SUM(excess unemployment[Region!] * labour force[Region!]) / SUM(labour force[Region!])", "Dmnl",
     "Labour-force weighted mean excess unemployment."),
    ("net migration" + R,
     "migration response * labour force[Region] * (national excess unemployment - excess unemployment[Region])",
     "thousand jobs/Year",
     "Net in-migration on the unemployment gap to the other states (Blanchard and Katz 1992); sums to 0."),
    ("relative wage" + R,
     "INTEG(-wage flexibility * relative wage[Region] * excess unemployment[Region], 1)", "Dmnl",
     "Wage relative to INITIAL TIME: falls while unemployment exceeds its natural rate."),
    ("wage effect on hiring" + R, "relative wage[Region] ^ (-wage elasticity of labour demand)", "Dmnl",
     "Effect of the relative wage on the jobs firms want to fill."),
    ("unemployment fraction" + R,
     "structural unemployment[Region] * state unemployment cycle index[Region] / (1 - structural "
     "unemployment[Region] + structural unemployment[Region] * state unemployment cycle index[Region])", "Dmnl",
     "Unemployment: the state's cycle multiplies the odds of structural unemployment (bounded in [0, 1])."),
    ("state unemployment cycle index" + R,
     "national unemployment cycle index ^ unemployment cycle sensitivity[Region]", "Dmnl",
     "The national cycle as the state feels it: the index raised to the state's cycle sensitivity."),
    ("unemployment rate" + R, "100 * unemployment fraction[Region]", "percent", "Unemployment rate (maps to unemp)."),
    ("employment" + R, "labour force[Region] * (1 - unemployment fraction[Region])", "thousand jobs",
     "Total employment L (maps to emp)."),
    ("cycle factor" + R, "XIDZ(employment[Region], structural employment[Region], 1)", "Dmnl",
     "Employment relative to structural employment (the national cycle)."),
    ("sme employment" + R, "sme structural employment[Region] * cycle factor[Region]", "thousand jobs",
     "Employment in SMEs."),
    ("large firm employment" + R, "large firm structural employment[Region] * cycle factor[Region]",
     "thousand jobs", "Employment in large firms."),
    ("sme employment share" + R, "sme employment[Region] / employment[Region]", "Dmnl", "SME share of employment."),
    ("sme share of new jobs" + R,
     "XIDZ(sme employment[Region] - INITIAL(sme employment[Region]), "
     "employment[Region] - INITIAL(employment[Region]), initial sme employment share)",
     "Dmnl", "SME share of net jobs created since INITIAL TIME."),
]

from regional_equations_knowledge import ALIGNMENT, KNOWLEDGE  # noqa: E402

TEMPLATE = [
    ("Levers", "Policy levers of the cluster programme.", LEVERS),
    ("Programme cost", "Spending of the programme on every lever.", COSTS),
    ("Drivers", "State-specific exogenous trends from the panel and their convergence after it.", DRIVERS),
    ("Investment", "(a) Cluster investment: public and private capital, output.", INVESTMENT),
    ("SME growth", "(b) SME ageing chain and large firms.", SME),
    ("Labour market", "(b) Employment, labour force, migration, wages, the national cycle.", LABOUR),
    ("Knowledge", "(c) Knowledge creation and spillover.", KNOWLEDGE),
    ("Alignment", "(d) Stakeholder engagement, trust, alignment, network density.", ALIGNMENT),
]
