-- The tws profile's service keeps its own journal (two services must never share one).
CREATE DATABASE catalyst_tws OWNER catalyst;
