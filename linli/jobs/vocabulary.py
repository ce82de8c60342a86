"""The seeded vocabulary of job categories (the kiosk's tiles) and skills (issue 14 §1).

Pure data: ``CATEGORIES`` are (code, 中文, English, icon, order); ``SKILLS`` are (code, 中文, English,
category code). Migration 0002 and ``services.vocabulary.ensure()`` load them (both through
``services.vocabulary.load``); afterwards they are the district's data, edited in the admin.

Skill codes follow the structure of the national occupation classification (《中华人民共和国职业分类
大典》2022: 大类-中类-小类-细类, e.g. ``6-18-01-01`` 车工 = 6 生产制造及有关人员, 18 机械制造基础加工
人员, 01 机械冷加工人员, 01 车工). The major and middle groups are the classification's; the detail
code of an occupation is editable data here, and a district using the codes in statistics checks
them against the published edition (docs/jobs.md "Seekers"). ``icon`` is the id of a symbol in
``linli/jobs/static/jobs/icons.svg`` (``icon-<name>``).
"""

from __future__ import annotations

CATEGORIES: tuple[tuple[str, str, str, str, int], ...] = (
    ("manufacturing", "制造技工", "Manufacturing and trades", "wrench", 10),
    ("catering", "餐饮", "Catering", "bowl", 20),
    ("housekeeping", "家政保洁", "Housekeeping and cleaning", "broom", 30),
    ("care", "养老护理", "Care for the elderly and children", "heart", 40),
    ("logistics", "物流配送", "Logistics and delivery", "truck", 50),
    ("retail", "零售收银", "Shops and tills", "cart", 60),
    ("security", "保安物业", "Security and property services", "shield", 70),
    ("construction", "建筑装修", "Building and decoration", "helmet", 80),
    ("driving", "驾驶运输", "Driving", "wheel", 90),
    ("office", "办公文员", "Office work", "briefcase", 100),
    ("community", "社区服务", "Community services", "people", 110),
    ("ecommerce", "电商客服", "E-commerce and customer service", "headset", 120),
    ("repair", "维修电工", "Repairs and electricians", "bolt", 130),
    ("beauty", "美容美发", "Hair and beauty", "scissors", 140),
)

SKILLS: tuple[tuple[str, str, str, str], ...] = (
    # 6-18 机械制造基础加工人员: 01 机械冷加工, 02 机械热加工
    ("6-18-01-01", "车工", "Lathe operator", "manufacturing"),
    ("6-18-01-02", "铣工", "Milling machine operator", "manufacturing"),
    ("6-18-01-03", "刨插工", "Planing and slotting machine operator", "manufacturing"),
    ("6-18-01-04", "磨工", "Grinding machine operator", "manufacturing"),
    ("6-18-01-05", "镗工", "Boring machine operator", "manufacturing"),
    ("6-18-01-06", "钻床工", "Drilling machine operator", "manufacturing"),
    ("6-18-01-08", "数控机床操作调整工", "CNC machine operator", "manufacturing"),
    ("6-18-02-01", "铸造工", "Foundry worker", "manufacturing"),
    ("6-18-02-02", "锻造工", "Forger", "manufacturing"),
    ("6-18-02-03", "金属热处理工", "Heat treatment worker", "manufacturing"),
    ("6-18-02-04", "焊工", "Welder", "manufacturing"),
    # 6-20 通用设备制造人员
    ("6-20-01-01", "装配钳工", "Assembly fitter", "manufacturing"),
    ("6-20-01-02", "工具钳工", "Toolmaker", "manufacturing"),
    # 4-03 住宿和餐饮服务人员: 01 住宿, 02 餐饮
    ("4-03-02-01", "中式烹调师", "Chinese cook", "catering"),
    ("4-03-02-02", "中式面点师", "Chinese pastry cook", "catering"),
    ("4-03-02-03", "西式烹调师", "Western cook", "catering"),
    ("4-03-02-04", "西式面点师", "Western pastry cook", "catering"),
    ("4-03-02-05", "餐厅服务员", "Waiter / waitress", "catering"),
    ("4-03-02-06", "营养配餐员", "Nutrition meal planner", "catering"),
    ("4-03-02-07", "茶艺师", "Tea master", "catering"),
    ("4-03-02-08", "咖啡师", "Barista", "catering"),
    ("4-03-01-01", "前厅服务员", "Hotel receptionist", "catering"),
    # 4-10 居民服务人员, 4-09 环境和公共设施服务人员
    ("4-10-01-06", "家政服务员", "Domestic helper", "housekeeping"),
    ("4-09-08-01", "保洁员", "Cleaner", "housekeeping"),
    ("4-03-01-02", "客房服务员", "Room attendant", "housekeeping"),
    ("4-10-02-01", "洗衣师", "Laundry worker", "housekeeping"),
    ("4-10-01-05", "养老护理员", "Elderly carer", "care"),
    ("4-10-01-01", "育婴员", "Infant carer", "care"),
    ("4-10-01-02", "保育员", "Nursery assistant", "care"),
    ("4-10-01-03", "孤残儿童护理员", "Carer of orphaned and disabled children", "care"),
    ("4-14-01-01", "健康管理师", "Health manager", "care"),
    ("4-14-01-02", "医疗护理员", "Patient carer", "care"),
    # 4-02 交通运输、仓储和邮政业服务人员
    ("4-02-07-08", "快递员", "Courier", "logistics"),
    ("4-02-07-10", "网约配送员", "App-based delivery rider", "logistics"),
    ("4-02-07-02", "邮件分拣员", "Mail sorter", "logistics"),
    ("4-02-06-01", "仓储管理员", "Warehouse keeper", "logistics"),
    ("4-02-06-02", "理货员", "Tallyman", "logistics"),
    ("4-02-06-03", "物流服务师", "Logistics service specialist", "logistics"),
    # 4-01 批发与零售服务人员
    ("4-01-02-01", "营销员", "Sales representative", "retail"),
    ("4-01-02-03", "商品营业员", "Shop assistant", "retail"),
    ("4-01-02-04", "收银员", "Cashier", "retail"),
    ("4-01-01-01", "采购员", "Buyer", "retail"),
    ("4-01-05-01", "医药商品购销员", "Pharmacy sales assistant", "retail"),
    # 4-07 租赁和商务服务人员 (05 安全保护服务), 4-06 房地产服务人员 (01 物业管理)
    ("4-07-05-01", "保安员", "Security guard", "security"),
    ("4-07-05-02", "安检员", "Security screener", "security"),
    ("4-07-05-03", "智能楼宇管理员", "Building systems operator", "security"),
    ("4-07-05-04", "消防设施操作员", "Fire equipment operator", "security"),
    ("4-06-01-01", "物业管理员", "Property manager", "security"),
    ("4-06-01-02", "中央空调系统运行操作员", "Central air-conditioning operator", "security"),
    # 6-29 建筑施工人员
    ("6-29-01-01", "砌筑工", "Bricklayer", "construction"),
    ("6-29-01-03", "混凝土工", "Concrete worker", "construction"),
    ("6-29-01-04", "钢筋工", "Steel fixer", "construction"),
    ("6-29-01-05", "架子工", "Scaffolder", "construction"),
    ("6-29-03-03", "管工", "Pipe fitter", "construction"),
    ("6-29-04-01", "装饰装修工", "Decorator", "construction"),
    ("6-29-04-02", "油漆工", "Painter", "construction"),
    # 4-02-02 道路运输服务人员
    ("4-02-02-01", "道路客运汽车驾驶员", "Bus and coach driver", "driving"),
    ("4-02-02-02", "道路货运汽车驾驶员", "Lorry driver", "driving"),
    ("4-02-02-03", "道路客运服务员", "Bus conductor", "driving"),
    ("6-30-05-01", "起重装卸机械操作工", "Crane and forklift operator", "driving"),
    # 3-01 行政办事及辅助人员, 4-07-03 人力资源服务人员
    ("3-01-02-01", "秘书", "Secretary", "office"),
    ("3-01-02-04", "打字员", "Typist", "office"),
    ("3-01-02-05", "计算机操作员", "Computer operator", "office"),
    ("3-03-01-01", "出纳员", "Cashier (accounts)", "office"),
    ("4-07-03-02", "企业人力资源管理师", "Human resources officer", "office"),
    ("4-07-03-01", "劳动关系协调员", "Labour relations coordinator", "office"),
    # community services
    ("4-07-04-05", "网格员", "Grid worker", "community"),
    ("4-10-05-01", "婚姻家庭咨询师", "Marriage and family counsellor", "community"),
    ("4-09-09-01", "有害生物防制员", "Pest control worker", "community"),
    ("4-08-01-01", "社群健康助理员", "Community health assistant", "community"),
    ("4-13-01-01", "社会体育指导员", "Community sports instructor", "community"),
    # 4-01-02 电子商务, 4-04 信息通信服务
    ("4-01-02-02", "电子商务师", "E-commerce specialist", "ecommerce"),
    ("4-01-02-07", "互联网营销师", "Online marketer (live streaming)", "ecommerce"),
    ("4-04-01-01", "信息通信营业员", "Telecom shop assistant", "ecommerce"),
    ("4-04-04-01", "呼叫中心服务员", "Call centre agent", "ecommerce"),
    ("4-07-02-03", "客户服务管理员", "Customer service officer", "ecommerce"),
    # 4-12 修理及制作服务人员, 6-31 机械设备修理人员
    ("6-31-01-03", "电工", "Electrician", "repair"),
    ("4-12-01-01", "汽车维修工", "Car mechanic", "repair"),
    ("4-12-02-01", "计算机维修工", "Computer repairer", "repair"),
    ("4-12-03-02", "家用电器产品维修工", "Household appliance repairer", "repair"),
    ("4-12-03-01", "家用电子产品维修工", "Consumer electronics repairer", "repair"),
    ("4-12-04-01", "自行车与电动车修理工", "Bicycle and e-bike repairer", "repair"),
    # 4-10-03 美容美发服务人员, 4-10-04 保健服务人员
    ("4-10-03-01", "美容师", "Beautician", "beauty"),
    ("4-10-03-02", "美发师", "Hairdresser", "beauty"),
    ("4-10-03-03", "美甲师", "Manicurist", "beauty"),
    ("4-10-04-01", "保健按摩师", "Massage therapist", "beauty"),
)
