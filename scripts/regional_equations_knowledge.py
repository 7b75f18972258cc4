"""Knowledge and alignment equations of ``regional_cluster`` (see ``regional_equations.py``)."""

from __future__ import annotations

Equation = tuple[str, str, str, str]

R = "[Region]"

KNOWLEDGE: list[Equation] = [
    ("rd intensity", "0.02", "Dmnl",
     "Assumed: R&D spending as a share of output, national (0.01-0.03). Away from the reference 0.02 it moves "
     "knowledge creation, and through knowledge TFP and output, from INITIAL TIME on."),
    ("knowledge productivity", "1", "Dmnl",
     "Assumed: nu, knowledge created per unit of R&D^lambda K^phi, relative to the reference 1 behind the panel's "
     "TFP trend (0.5-2): it moves knowledge creation, TFP and output."),
    ("rd elasticity of knowledge creation", "0.85", "Dmnl",
     "lambda. Estimated by scripts/calibrate_regional_model.py (ce.parameters_from_estimates): elasticity "
     "of patents to R&D of the fixed-effects Poisson equation of patents on log_rd and log_spill on firm_patents "
     "(Cincera 1997), 0.570 (s.e. 0.165); Bottazzi and Peri (2003) find 0.8-0.9 across regions (0.4-0.9)."),
    ("knowledge elasticity of knowledge creation", "0.3", "Dmnl",
     "Assumed: phi < 1 (Jones 1995), standing-on-shoulders effect (0-0.8)."),
    ("knowledge obsolescence rate", "0.15", "1/Year",
     "Literature: delta_K, Griliches (1979) 0.15; Hall (2007) 0.15-0.4."),
    ("knowledge elasticity of tfp", "0.1", "Dmnl",
     "Assumed: eta, elasticity of TFP to knowledge beyond what own R&D sustains (0-0.2)."),
    ("between cluster absorption rate", "0.01", "1/Year",
     "Literature: sigma_b, baseline exchange; a partner twice as knowledge-intensive adds about 3 % to "
     "knowledge creation (0.005-0.02; Bottazzi and Peri 2003: 2-3 % per doubling)."),
    ("within cluster spillover rate", "0.5", "1/Year",
     "Assumed: sigma_w, rate of knowledge transfer from cluster leaders to SMEs (0.1-1)."),
    ("initial absorptive capacity", "0.5", "Dmnl", "Assumed: absorptive capacity at INITIAL TIME (0.2-0.8)."),
    ("absorptive capacity adjustment time", "5", "Year", "Assumed: time to build absorptive capacity (3-10)."),
    ("absorptive capacity elasticity", "0.3", "Dmnl",
     "Assumed: elasticity of indicated absorptive capacity to the SMEs' knowledge share (0-1)."),
    ("patents per knowledge unit", "0.05", "patents/knowledge unit",
     "Assumed: patents per unit of new knowledge (0.01-0.2; to calibrate on the firm patent panel)."),
    ("rd spending" + R, "rd intensity * relative rd intensity[Region] * output[Region]", "USD million/Year",
     "R&D spending."),
    ("reference rd intensity", "0.02", "Dmnl",
     "Normalisation: the R&D intensity behind the 1970 knowledge stock and the panel's TFP trend (the default of "
     "rd intensity); not a parameter."),
    ("reference knowledge productivity", "1", "Dmnl",
     "Normalisation: the knowledge productivity behind the 1970 knowledge stock and the panel's TFP trend (the "
     "default of knowledge productivity); not a parameter."),
    ("reference rd spending" + R, "reference rd intensity * relative rd intensity[Region] * output[Region]",
     "USD million/Year", "R&D spending at the reference intensity."),
    ("initial knowledge" + R,
     "INITIAL((reference knowledge productivity * (reference rd intensity * relative rd intensity[Region] * "
     "initial output[Region]) ^ rd elasticity of knowledge creation / knowledge obsolescence rate) ^ "
     "(1 / (1 - knowledge elasticity of knowledge creation)))",
     "knowledge unit",
     "Knowledge stock in perpetual-inventory equilibrium at INITIAL TIME, built by the reference R&D effort."),
    ("knowledge creation" + R,
     "knowledge productivity * rd spending[Region] ^ rd elasticity of knowledge creation * "
     "knowledge stock[Region] ^ knowledge elasticity of knowledge creation",
     "knowledge unit/Year", "New knowledge nu RD^lambda K^phi (Jones 1995)."),
    ("knowledge intensity" + R, "knowledge stock[Region] / output[Region]", "knowledge unit*Year/USD million",
     "Knowledge per unit of output."),
    ("between cluster spillover" + R,
     "between cluster absorption rate * (1 + between cluster exchange intensity * programme switch[Region]) * "
     "absorptive capacity[Region] * output[Region] * SUM(exchange weight[Region, Partner!] * "
     "MAX(knowledge intensity[Partner!] - knowledge intensity[Region], 0))",
     "knowledge unit/Year",
     "Knowledge absorbed from more knowledge-intensive regions within the exchange distance limit: baseline "
     "exchange, scaled by the lever."),
    ("knowledge stock" + R,
     "INTEG(knowledge creation[Region] + between cluster spillover[Region] - knowledge obsolescence rate * "
     "knowledge stock[Region], initial knowledge[Region])",
     "knowledge unit", "Regional knowledge (R&D capital, perpetual inventory)."),
    ("own knowledge" + R,
     "INTEG(reference knowledge productivity * reference rd spending[Region] ^ rd elasticity of knowledge creation"
     " * own knowledge[Region] ^ knowledge elasticity of knowledge creation - knowledge obsolescence rate * own "
     "knowledge[Region], initial knowledge[Region])", "knowledge unit",
     "Knowledge the region's own R&D would sustain alone at the reference R&D effort (the effort behind the "
     "panel's TFP trend)."),
    ("knowledge effect on tfp" + R, "(knowledge stock[Region] / own knowledge[Region]) ^ knowledge elasticity of tfp",
     "Dmnl", "TFP gain from knowledge beyond what the reference R&D effort sustains: knowledge absorbed from other "
     "regions, and R&D intensity or knowledge productivity away from their reference (the trend of the reference "
     "effort is in the TFP trend)."),
    ("initial within cluster spillover rate",
     "within cluster spillover rate * initial network density * reference alignment * initial absorptive capacity",
     "1/Year", "Fractional within-cluster spillover rate at INITIAL TIME."),
    ("initial sme knowledge share",
     "initial within cluster spillover rate / (initial within cluster spillover rate + knowledge obsolescence rate)",
     "Dmnl", "SME knowledge relative to regional knowledge in equilibrium at INITIAL TIME."),
    ("within cluster spillover" + R,
     "within cluster spillover rate * network density[Region] * alignment[Region] * absorptive capacity[Region] * "
     "MAX(knowledge stock[Region] - sme knowledge[Region], 0)",
     "knowledge unit/Year", "Knowledge flowing from cluster leaders to SMEs (gated by alignment and density)."),
    ("sme knowledge" + R,
     "INTEG(within cluster spillover[Region] - knowledge obsolescence rate * sme knowledge[Region], "
     "initial knowledge[Region] * initial sme knowledge share)", "knowledge unit", "Knowledge available to SMEs."),
    ("sme knowledge share" + R, "sme knowledge[Region] / knowledge stock[Region]", "Dmnl",
     "SME knowledge relative to regional knowledge."),
    ("indicated absorptive capacity" + R,
     "MIN(1, initial absorptive capacity * (sme knowledge share[Region] / initial sme knowledge share) "
     "^ absorptive capacity elasticity)", "Dmnl", "Absorptive capacity the SMEs' knowledge supports."),
    ("absorptive capacity" + R,
     "INTEG((indicated absorptive capacity[Region] - absorptive capacity[Region]) / "
     "absorptive capacity adjustment time, initial absorptive capacity)", "Dmnl", "Absorptive capacity (0-1)."),
    ("patents" + R, "patents per knowledge unit * knowledge creation[Region]", "patents/Year",
     "Patents (maps to the firm patent panel)."),
]

ALIGNMENT: list[Equation] = [
    ("initial trust", "0.4", "Dmnl", "Assumed: trust between SMEs and cluster leaders at INITIAL TIME (0.2-0.6)."),
    ("trust build time", "3", "Year",
     "Assumed: trust builds slowly, 2-5 years (Black et al. 2003; Luna-Reyes et al. 2004)."),
    ("trust erosion time", "0.75", "Year", "Assumed: trust erodes fast, 0.5-1 year (same sources)."),
    ("trust gain from engagement", "1", "Dmnl", "Assumed: rise of indicated trust per unit engaged share (0-3)."),
    ("expected sme benefit", "0.05", "Dmnl",
     "Assumed: rise of attractiveness engaged SMEs expect from the programme (0-0.2)."),
    ("trust sensitivity to shortfall", "2", "Dmnl",
     "Assumed: elasticity of indicated trust to the ratio of perceived to expected SME benefit below 1 (0-4)."),
    ("sme recruitment rate", "0.2", "1/Year",
     "Assumed: fraction of unengaged SMEs engaged per year at engagement effort 1 (0.05-0.5)."),
    ("maximum recruitment rate", "1", "1/Year",
     "Assumed: most of the unengaged SMEs that can join cluster governance in a year (0.5-2)."),
    ("benefit elasticity of engagement", "1", "Dmnl",
     "Assumed: elasticity of engagement to perceived SME benefit (0-2)."),
    ("engagement fatigue rate", "0.1", "1/Year", "Assumed: fraction of engaged SMEs dropping out per year (0.05-0.3)."),
    ("baseline sme seat share", "0.1", "Dmnl", "Assumed: SME seat share without engagement (0-0.3)."),
    ("capture sensitivity", "1", "Dmnl",
     "Assumed: kappa, loss of alignment per unit representation gap "
     "(0-1.2; below 1/0.7 so the pre-programme alignment stays positive)."),
    ("alignment adjustment time", "2", "Year", "Assumed: time for alignment to follow trust and representation (1-4)."),
    ("initial network density", "0.3", "Dmnl", "Assumed: network density at INITIAL TIME (0.1-0.5)."),
    ("density gain from engagement", "1", "Dmnl", "Assumed: rise of indicated density per unit engaged share (0-2)."),
    ("density gain from sharing programme", "0.5", "Dmnl",
     "Assumed: rise of indicated density per unit of knowledge sharing intensity (0-1); the sharing lever's "
     "only channel."),
    ("density adjustment time", "3", "Year", "Assumed: time for the network to form or decay (1-5)."),
    ("reference alignment",
     "initial trust * MAX(0, 1 - capture sensitivity * ABS(baseline sme seat share - initial sme employment share))",
     "Dmnl", "Alignment in equilibrium before the programme."),
    ("engagement" + R,
     "engagement switch[Region] * MIN(maximum recruitment rate, engagement effort * sme recruitment rate * "
     "(trust[Region] / initial trust) * perceived attractiveness[Region] ^ benefit elasticity of engagement) * "
     "(1 - engaged sme share[Region])",
     "1/Year", "Share of SMEs joining cluster governance per year (R engagement-trust, R alignment-benefit)."),
    ("disengagement" + R,
     "engaged sme share[Region] * (engagement fatigue rate + ZIDZ(sme births[Region], sme firms[Region] + "
     "sme births[Region] * dilution year))", "1/Year",
     "Engaged share lost to fatigue (B fatigue) and to dilution by unengaged new SMEs (births over the SMEs "
     "after a year of births: below 1 per year, so the share stays in [0, 1])."),
    ("dilution year", "1", "Year", "One year of births, for the dilution of the engaged share."),
    ("engaged sme share" + R, "INTEG(engagement[Region] - disengagement[Region], 0)", "Dmnl",
     "Share of SMEs engaged in cluster governance."),
    ("engaged smes" + R, "engaged sme share[Region] * sme firms[Region]", "firm", "SMEs engaged in governance."),
    ("sme seat share" + R,
     "MAX(baseline sme seat share, engagement switch[Region] * MAX(sme representation quota, "
     "engaged sme share[Region] * sme employment share[Region]))",
     "Dmnl", "SME share of seats in cluster governance."),
    ("representation gap" + R, "sme seat share[Region] - sme employment share[Region]", "Dmnl",
     "SME seat share minus SME employment share (B capture by large firms when negative)."),
    ("benefit ratio" + R,
     "MIN(1, perceived attractiveness[Region] / (1 + expected sme benefit * engagement switch[Region] * "
     "MIN(1, engagement effort)))", "Dmnl",
     "Perceived SME benefit relative to what SMEs expect once engaged (1 without engagement or when met)."),
    ("indicated trust" + R,
     "MIN(1, initial trust * (1 + trust gain from engagement * engaged sme share[Region]) * benefit ratio[Region] "
     "^ trust sensitivity to shortfall)", "Dmnl",
     "Trust the current engagement supports, lowered when the SME benefit falls short of expectations."),
    ("trust change" + R,
     "IF THEN ELSE(indicated trust[Region] >= trust[Region], "
     "(indicated trust[Region] - trust[Region]) / trust build time, "
     "(indicated trust[Region] - trust[Region]) / trust erosion time)",
     "1/Year", "Trust builds slowly and erodes fast."),
    ("trust" + R, "INTEG(trust change[Region], initial trust)", "Dmnl", "Trust (0-1)."),
    ("indicated alignment" + R,
     "trust[Region] * MAX(0, 1 - capture sensitivity * ABS(representation gap[Region]))", "Dmnl",
     "Alignment that trust and representation support."),
    ("alignment" + R,
     "INTEG((indicated alignment[Region] - alignment[Region]) / alignment adjustment time, reference alignment)",
     "Dmnl", "Alignment of stakeholder interests (0-1)."),
    ("indicated network density" + R,
     "MIN(1, initial network density * (1 + density gain from engagement * engaged sme share[Region] + "
     "density gain from sharing programme * knowledge sharing intensity * programme switch[Region]))",
     "Dmnl", "Network density that engagement and the sharing programme support."),
    ("network density" + R,
     "INTEG((indicated network density[Region] - network density[Region]) / density adjustment time, "
     "initial network density)", "Dmnl", "Density of the cluster network (0-1)."),
]
