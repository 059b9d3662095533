"""Reports (``GET /api/marketing/reports/``): any of the dimensions, any period, the chosen
metrics, a comparison range, filled periods and any order. ``parameters`` checks what is
asked, ``periods`` knows the calendar, ``sums`` groups in SQL and ``report`` builds the
rows and totals."""
