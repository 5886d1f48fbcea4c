"""Word lists for realistic demo customers: Indian and international names and cities."""

from __future__ import annotations

FIRST_NAMES = (
    "Aarav Vivaan Aditya Arjun Sai Reyansh Ishaan Kabir Rohan Vihaan Ananya Diya Aadhya Saanvi "
    "Isha Kavya Meera Priya Riya Sneha Pooja Neha Rahul Amit Vikram Suresh Lakshmi Deepa Farhan "
    "Imran Ayesha Zoya Harpreet Gurpreet Manpreet Joseph Thomas Maria Anjali Nikhil Tanvi "
    "Olivia Liam Emma Noah Sophia Lucas Chloé Zoë Mateo Sofía Jürgen Søren Amélie Björn Yuki "
    "Wei Mei Omar Fatima Chiara Luca Ines Hannah"
).split()
LAST_NAMES = (
    "Sharma Verma Gupta Iyer Nair Reddy Patel Shah Mehta Joshi Kulkarni Deshpande Rao Menon "
    "Pillai Singh Kaur Khan Qureshi Banerjee Chatterjee Mukherjee Das Bose Ghosh Agarwal Jain "
    "Malhotra Kapoor Chopra D'Souza Fernandes Pereira Smith Johnson Brown Müller Schmidt "
    "García Martínez Rossi Dubois Tanaka Chen Wang Kim Nguyen O'Brien Andersson Novák"
).split()
# (city, weight, country dialling code)
CITIES = (
    ("Mumbai", 14, "91"),
    ("Delhi", 13, "91"),
    ("Bengaluru", 12, "91"),
    ("Pune", 8, "91"),
    ("Hyderabad", 8, "91"),
    ("Chennai", 7, "91"),
    ("Kolkata", 6, "91"),
    ("Ahmedabad", 5, "91"),
    ("Jaipur", 4, "91"),
    ("Lucknow", 3, "91"),
    ("Kochi", 3, "91"),
    ("Chandigarh", 2, "91"),
    ("Indore", 2, "91"),
    ("London", 3, "44"),
    ("Dubai", 3, "971"),
    ("Singapore", 2, "65"),
    ("New York", 2, "1"),
    ("Toronto", 1, "1"),
    ("Sydney", 1, "61"),
    ("München", 1, "49"),
    ("São Paulo", 1, "55"),
    ("Zürich", 1, "41"),
)
EMAIL_DOMAINS = ("gmail.com", "yahoo.co.in", "outlook.com", "hotmail.com", "rediffmail.com",
                 "icloud.com", "proton.me", "example.org")
# (tag, probability)
TAGS = (
    ("newsletter", 0.40),
    ("app-user", 0.25),
    ("vip", 0.05),
    ("wholesale", 0.03),
    ("early-adopter", 0.08),
    ("festive-buyer", 0.15),
    ("churn-risk", 0.07),
)
