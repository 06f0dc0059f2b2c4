# Figures (seaborn; PNG + PDF) and the findings page of the report.

FIGURES = []
